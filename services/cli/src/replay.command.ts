import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ReadModelDb } from '@lifeline/read-models';
import { rebuildReadModelFile, readModelNames } from '@lifeline/audit';
import { CliUsageError, ProgressBar, type CliIo } from './io';
import { dataDirOf, openConfiguredStore, withStore } from './store';
import type { Run } from './run';

/** The file the server serves (services/api/src/lifeline-app.ts). */
export const SERVED_READ_MODELS = 'read-models.db';

/**
 * `lifeline replay`: rebuild read models from the global log. Offline, on a stopped data dir, the
 * new file replaces the served one; with --url, the running server rebuilds and switches itself.
 */
export function registerReplay(program: Command, io: CliIo, run: Run): void {
  program
    .command('replay')
    .description('Rebuild read models from the global log into a new file, then switch to it')
    .option('--read-model <name>', `only this read model (${readModelNames().join(', ')})`)
    .option('--url <url>', 'a running server: it rebuilds and switches without a pause (needs --token, role admin)')
    .option('--token <jwt>', 'an admin token for --url')
    .action((options: { readModel?: string; url?: string; token?: string }, command: Command) =>
      run(async () => {
        if (options.url !== undefined) return replayOnServer(io, options.url, options.token, options.readModel);
        const dataDir = dataDirOf(command.optsWithGlobals<{ dataDir?: string }>().dataDir, io);
        const served = join(dataDir, SERVED_READ_MODELS);
        if (options.readModel !== undefined && !existsSync(served)) {
          throw new CliUsageError(`--read-model needs the current ${served} to copy the other read models from`);
        }
        const stamp = new Date().toISOString().replace(/[-:.]/g, '');
        const building = join(dataDir, `read-models-${stamp}.db`);
        const bar = new ProgressBar(io, 'replay');
        const result = await withStore(openConfiguredStore(dataDir, io), (store) =>
          rebuildReadModelFile(store, {
            targetFile: building,
            readModel: options.readModel,
            current: existsSync(served) ? served : undefined,
            onProgress: (done, total, eta) => bar.update(done, total, eta),
          }),
        );
        bar.finish();
        // The data dir is stopped: nobody holds the old file open, so replacing it is the switch.
        ReadModelDb.remove(served);
        renameSync(building, served);
        io.stdout(
          `rebuilt ${options.readModel ?? 'all read models'} from ${result.events} events (position ${result.position}) ` +
            `in ${(result.elapsedMs / 1000).toFixed(2)}s: ${result.eventsPerSecond} events/s -> ${served}\n`,
        );
        return 0;
      }),
    );
}

async function replayOnServer(
  io: CliIo,
  url: string,
  token: string | undefined,
  readModel: string | undefined,
): Promise<number> {
  if (!token) throw new CliUsageError('--url needs --token (an admin token; see `lifeline token`)');
  io.stderr(`asking ${url} to rebuild ${readModel ?? 'all read models'}…\n`);
  const response = await fetch(new URL('/admin/read-models/rebuild', url), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(readModel !== undefined ? { readModel } : {}),
  });
  const text = await response.text();
  if (!response.ok) {
    io.stderr(`the server refused (${response.status}): ${text}\n`);
    return 1;
  }
  io.stdout(text + '\n');
  return 0;
}
