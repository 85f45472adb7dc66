import { Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ApiAnswer, ApiErrors, Authenticated, named, WithBody } from '../http/openapi';
import { REBUILD_RESULT } from '../http/answers';
import { absent, ValidBody } from '../http/validation';
import { basename, join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { READ_MODELS_POINTER } from '../http/read-models-file';
import { EngineRuntime } from '@lifeline/engine';
import { RequireRoles } from '../auth/auth.guard';
import { Conflict } from '../http/api-errors';
import { ReadSide } from '../http/read-side';
import { readModelNames, rebuildReadModelFile } from '@lifeline/audit';

const REBUILD_READ_MODELS = named(
  'RebuildReadModelsDto',
  z.strictObject({
    /** Only this read model (`task-list`, `process-grid`, `instances`, `entity-timeline`); all when absent. */
    readModel: absent(z.enum(readModelNames() as [string, ...string[]])).meta({
      description: 'one read model; all when absent',
    }),
  }),
);

/** Rebuilds the served read models from the global log and switches to the new file without a pause. */
@ApiTags('admin')
@Authenticated()
@Controller('admin/read-models')
export class ReadModelsAdminController {
  private running = false;

  constructor(
    private readonly read: ReadSide,
    private readonly engine: EngineRuntime,
  ) {}

  @Post('rebuild')
  @HttpCode(200)
  @RequireRoles('admin')
  @ApiOperation({
    summary:
      'Rebuild read models into a new file, then serve it once it has caught up (old rows are served until then)',
  })
  @ApiAnswer(200, REBUILD_RESULT)
  @ApiErrors(403, 409)
  @WithBody()
  async rebuild(@ValidBody(REBUILD_READ_MODELS, { required: false }) body: z.output<typeof REBUILD_READ_MODELS>) {
    if (this.running) throw new Conflict('READ_MODELS.REBUILD_RUNNING', 'A rebuild is already running');
    this.running = true;
    try {
      const stamp = new Date().toISOString().replace(/[-:.]/g, '');
      const file = join(this.engine.config.dataDir, `read-models-${stamp}.db`);
      const result = await rebuildReadModelFile(this.engine.store, {
        targetFile: file,
        readModel: body.readModel,
        current: this.read.models.db,
      });
      await this.read.models.switchTo(file);
      // A restart serves the rebuilt file too, not the one it replaced.
      writeFileSync(join(this.engine.config.dataDir, READ_MODELS_POINTER), basename(file));
      return {
        file,
        readModel: body.readModel ?? 'all',
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
