import { Command, CommanderError } from 'commander';
import { DomainError } from '@lifeline/process-domain';
import { registerAudit } from './audit.command';
import { registerCopyHistory } from './copy-history.command';
import { registerExport } from './export.command';
import { registerImport } from './import.command';
import { CliUsageError, processIo, type CliIo } from './io';
import { registerReplay } from './replay.command';
import { registerToken } from './token.command';
import { registerWhatIf } from './what-if.command';
import type { Run } from './run';

export type { CliIo } from './io';

/**
 * The `lifeline` command, runnable in-process (tests call it; main.ts passes the process's argv).
 * Resolves with the exit code: 0 done, 1 the check failed (broken chain, differing checksums), 2 misuse.
 */
export async function runCli(argv: string[], io: CliIo = processIo()): Promise<number> {
  let exitCode = 0;
  const run: Run = async (work) => {
    exitCode = await work();
  };
  const program = new Command('lifeline')
    .description('Lifeline from the command line: audit, replay, what-if, history copy, tokens, BPMN import and export')
    .option(
      '--data-dir <dir>',
      'the data dir (default: LIFELINE_DATA_DIR or ./data); EventStoreDB with LIFELINE_EVENT_STORE=eventstoredb and EVENTSTORE_URL',
    )
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout(text), writeErr: (text) => io.stderr(text) });
  registerAudit(program, io, run);
  registerReplay(program, io, run);
  registerWhatIf(program, io, run);
  registerCopyHistory(program, io, run);
  registerToken(program, io, run);
  registerImport(program, io, run);
  registerExport(program, io, run);
  for (const command of allCommands(program))
    command.exitOverride().configureOutput({ writeOut: (t) => io.stdout(t), writeErr: (t) => io.stderr(t) });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof CliUsageError) {
      io.stderr(`lifeline: ${error.message}\n`);
      return 2;
    }
    if (error instanceof DomainError) {
      io.stderr(`lifeline: ${error.code}: ${error.message}\n`);
      const details = error.details as { path?: string; message?: string }[] | undefined;
      if (Array.isArray(details)) for (const d of details) io.stderr(`  ${d.path ?? ''}: ${d.message ?? ''}\n`);
      return 2;
    }
    io.stderr(`lifeline: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((c) => [c, ...allCommands(c)]);
}
