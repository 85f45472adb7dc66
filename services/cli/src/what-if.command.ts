import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import type { Command } from 'commander';
import { parseDefinition } from '@lifeline/process-domain';
import { formatWhatIf, parseAsOf, whatIf } from '@lifeline/audit';
import { CliUsageError, type CliIo } from './io';
import { dataDirOf, openConfiguredStore, withStore } from './store';
import type { Run } from './run';

/** `lifeline what-if`: what a new definition would have done with the recorded entity events of a window. */
export function registerWhatIf(program: Command, io: CliIo, run: Run): void {
  program
    .command('what-if')
    .description(
      'Replay the recorded entity events of a window through a new definition, with no side effects, and compare with what happened',
    )
    .requiredOption('--definition <file>', 'the new definition (YAML or JSON)')
    .requiredOption('--from <time>', 'ISO instant: first recorded entity event of the window')
    .requiredOption('--to <time>', 'ISO instant: last recorded entity event of the window')
    .option('--json', 'print the report as JSON')
    .action((options: { definition: string; from: string; to: string; json?: boolean }, command: Command) =>
      run(async () => {
        const window = { from: instant(options.from, '--from'), to: instant(options.to, '--to') };
        if (Date.parse(window.from) > Date.parse(window.to)) throw new CliUsageError('--from must not be after --to');
        const file = resolve(io.cwd, options.definition);
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch {
          throw new CliUsageError(`Cannot read ${file}`);
        }
        const definition = parseDefinition(text, extname(file) === '.json' ? 'application/json' : 'application/yaml');
        const dataDir = dataDirOf(command.optsWithGlobals<{ dataDir?: string }>().dataDir, io);
        const report = await withStore(openConfiguredStore(dataDir, io), (store) => whatIf(store, definition, window));
        io.stdout(options.json ? JSON.stringify(report, null, 2) + '\n' : formatWhatIf(report));
        return 0;
      }),
    );
}

function instant(text: string, option: string): string {
  const parsed = parseAsOf(text);
  if (parsed.kind !== 'time') throw new CliUsageError(`${option} must be an ISO instant, e.g. 2026-11-21T10:00:00Z`);
  return parsed.at;
}
