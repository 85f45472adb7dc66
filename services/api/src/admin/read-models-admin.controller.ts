import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiExtraModels, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { ApiAnswer, ApiErrors, Authenticated, WithBody } from '../http/openapi';
import { Absent } from '../http/validation';
import { CommandBus } from '@nestjs/cqrs';
import { RequireRoles } from '../auth/auth.guard';
import { readModelNames } from '@lifeline/audit';
import { RebuildReadModelsCommand } from './read-models.use-cases';

export class RebuildReadModelsDto {
  /** Only this read model (`task-list`, `process-grid`, `instances`, `entity-timeline`); all when absent. */
  @ApiPropertyOptional({ enum: readModelNames(), description: 'one read model; all when absent' })
  @Absent()
  @IsIn(readModelNames())
  readModel?: string;
}

/** Rebuilds the served read models from the global log and switches to the new file without a pause. */
@ApiTags('admin')
@Authenticated()
@ApiExtraModels(RebuildReadModelsDto)
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
  @ApiBody({ type: RebuildReadModelsDto, required: false })
  @ApiAnswer(200, 'RebuildResult')
  @ApiErrors(403, 409)
  @WithBody()
  rebuild(@Body() body: RebuildReadModelsDto) {
    return this.commands.execute(new RebuildReadModelsCommand(body.readModel));
  }
}
