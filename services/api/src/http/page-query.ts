import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { PATTERNS } from './openapi';
import { QueryInteger } from './validation';

/** Paging and read-your-writes, shared by the list queries. */
export class PageQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 500 })
  @IsOptional()
  @QueryInteger()
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: 1_000_000_000 })
  @IsOptional()
  @QueryInteger()
  @IsInt()
  @Min(0)
  @Max(1_000_000_000)
  offset?: number;
  @ApiPropertyOptional({
    pattern: PATTERNS.position,
    description: 'wait (up to 5 s) until the read models reached this global position',
  })
  @IsOptional()
  @IsString()
  minPosition?: string;
}
