import type { Command } from 'commander';
import { copyHistory } from '@lifeline/event-store';
import { ProgressBar, type CliIo } from './io';
import { openStoreSpec, withStore } from './store';
import type { Run } from './run';

/** `lifeline copy-history`: move the whole history to another store (resumable), with both checksums. */
export function registerCopyHistory(program: Command, io: CliIo, run: Run): void {
  program
    .command('copy-history')
    .description(
      'Copy the whole event history from one store to another, in order (resumable: run it again after an interruption)',
    )
    .requiredOption('--from <store>', 'sqlite:<file>')
    .requiredOption('--to <store>', 'sqlite:<file> or esdb:<url>')
    .option('--batch-size <n>', 'events per append', (v) => Number(v), 500)
    .action((options: { from: string; to: string; batchSize: number }) =>
      run(async () => {
        const bar = new ProgressBar(io, 'copy');
        const result = await withStore(openStoreSpec(options.from, io, true), (from) =>
          withStore(openStoreSpec(options.to, io, false), (to) =>
            copyHistory(from, to, {
              batchSize: options.batchSize,
              onProgress: (done, total) => bar.update(done, total),
            }),
          ),
        );
        bar.finish();
        io.stdout(
          `copied ${result.copied} event(s), ${result.skipped} already there\n` +
            `source checksum: ${result.sourceChecksum}\ntarget checksum: ${result.targetChecksum}\n` +
            (result.sourceChecksum === result.targetChecksum ? 'checksums match\n' : 'CHECKSUMS DIFFER\n'),
        );
        return result.sourceChecksum === result.targetChecksum ? 0 : 1;
      }),
    );
}
