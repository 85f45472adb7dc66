import { Injectable } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { basename, join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { rebuildReadModelFile } from '@lifeline/audit';
import type { z } from 'zod';
import { EngineRuntime } from '@lifeline/engine';
import type { REBUILD_RESULT } from '../http/answers';
import { Conflict } from '../http/api-errors';
import { READ_MODELS_POINTER } from '../http/read-models-file';
import { ReadSide } from '../http/read-side';

export type RebuildResult = z.output<typeof REBUILD_RESULT>;

/** Rebuild one read model (all when absent) from the log into a new file, then serve that file. */
export class RebuildReadModelsCommand extends Command<RebuildResult> {
  constructor(readonly readModel?: string) {
    super();
  }
}

/** One rebuild at a time (409 READ_MODELS.REBUILD_RUNNING); old rows are served until the new file caught up. */
@Injectable()
@CommandHandler(RebuildReadModelsCommand)
export class RebuildReadModelsHandler implements ICommandHandler<RebuildReadModelsCommand, RebuildResult> {
  private running = false;

  constructor(
    private readonly read: ReadSide,
    private readonly engine: EngineRuntime,
  ) {}

  async execute({ readModel }: RebuildReadModelsCommand): Promise<RebuildResult> {
    if (this.running) throw new Conflict('READ_MODELS.REBUILD_RUNNING', 'A rebuild is already running');
    this.running = true;
    try {
      const stamp = new Date().toISOString().replace(/[-:.]/g, '');
      const file = join(this.engine.config.dataDir, `read-models-${stamp}.db`);
      const result = await rebuildReadModelFile(this.engine.store, {
        targetFile: file,
        readModel,
        current: this.read.models.db,
      });
      await this.read.models.switchTo(file);
      // A restart serves the rebuilt file too, not the one it replaced.
      writeFileSync(join(this.engine.config.dataDir, READ_MODELS_POINTER), basename(file));
      return {
        file,
        readModel: readModel ?? 'all',
        events: result.events,
        position: this.read.models.position(),
        elapsedMs: Math.round(result.elapsedMs),
        eventsPerSecond: result.eventsPerSecond,
      };
    } finally {
      this.running = false;
    }
  }
}
