import { createWriteStream } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { exportHistory, exportLine, parseEntityRef, verifyHistory, type ExportSubject } from '../../../libs/audit/src';
import { CliUsageError, ProgressBar, type CliIo } from './io';
import { dataDirOf, openConfiguredStore, withStore } from './store';
import type { Run } from './run';

/** `lifeline audit verify` and `lifeline audit export`. */
export function registerAudit(program: Command, io: CliIo, run: Run): void {
  const audit = program.command('audit').description('Tamper evidence and full histories for auditors');

  audit
    .command('verify')
    .description(
      'Check the hash chain of one stream or of every stream; name the first broken link (exit 1 when broken)',
    )
    .option('--stream <streamId>', 'only this stream (e.g. instance-<id>, entity-Invoice-INV-7)')
    .action((options: { stream?: string }, command: Command) =>
      run(async () => {
        const dataDir = dataDirOf(command.optsWithGlobals<{ dataDir?: string }>().dataDir, io);
        const bar = new ProgressBar(io, 'verify');
        const report = await withStore(openConfiguredStore(dataDir, io), (store) =>
          verifyHistory(store, { streamId: options.stream, onProgress: (done, total) => bar.update(done, total) }),
        );
        bar.finish();
        if (report.ok) {
          io.stdout(`OK: ${report.streams} stream(s), ${report.events} event(s); every hash-chain link holds\n`);
          return 0;
        }
        for (const link of report.broken) {
          io.stdout(
            `BROKEN: stream ${link.streamId} revision ${link.revision} event ${link.eventId}: ${link.reason}\n`,
          );
        }
        io.stdout(`${report.broken.length} of ${report.streams} stream(s) broken\n`);
        return 1;
      }),
    );

  audit
    .command('export')
    .description(
      'Write the full history of a record (and every instance about it) or of one instance, as JSON lines in global order',
    )
    .option('--entity <Type:id>', 'a record, e.g. Invoice:INV-7')
    .option('--instance <id>', 'one process instance')
    .option('--out <file>', 'write to this file instead of stdout')
    .action((options: { entity?: string; instance?: string; out?: string }, command: Command) =>
      run(async () => {
        if ((options.entity === undefined) === (options.instance === undefined)) {
          throw new CliUsageError('Give exactly one of --entity <Type:id> or --instance <id>');
        }
        const subject: ExportSubject =
          options.entity !== undefined
            ? { kind: 'entity', entity: parseEntityRef(options.entity) }
            : { kind: 'instance', instanceId: options.instance as string };
        const dataDir = dataDirOf(command.optsWithGlobals<{ dataDir?: string }>().dataDir, io);
        const events = await withStore(openConfiguredStore(dataDir, io), (store) => exportHistory(store, subject));
        const text = events.map((e) => exportLine(e) + '\n').join('');
        if (options.out !== undefined) await writeFile(resolve(io.cwd, options.out), text);
        else io.stdout(text);
        io.stderr(`exported ${events.length} event(s)${options.out !== undefined ? ` to ${options.out}` : ''}\n`);
        return events.length === 0 ? 1 : 0;
      }),
    );
}

function writeFile(file: string, text: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const out = createWriteStream(file, { encoding: 'utf8' });
    out.on('error', reject);
    out.end(text, () => resolvePromise());
  });
}
