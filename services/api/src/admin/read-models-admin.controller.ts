import { Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { CommandBus } from '@nestjs/cqrs';
import { z } from 'zod';
import { ApiAnswer, ApiErrors, Authenticated, named, WithBody } from '../http/openapi';
import { REBUILD_RESULT } from '../http/answers';
import { absent, ValidBody } from '../http/validation';
import { RequireRoles } from '../auth/auth.guard';
import { readModelNames } from '@lifeline/audit';
import { RebuildReadModelsCommand } from './read-models.use-cases';

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
  constructor(private readonly commands: CommandBus) {}

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
  rebuild(@ValidBody(REBUILD_READ_MODELS, { required: false }) body: z.output<typeof REBUILD_READ_MODELS>) {
    return this.commands.execute(new RebuildReadModelsCommand(body.readModel));
  }
}
