import { ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { ValidateIf } from 'class-validator';
import { Transform } from 'class-transformer';
import { RequestInvalid } from './api-errors';

const flatten = (errors: ValidationError[], parent = ''): { path: string; message: string }[] =>
  errors.flatMap((e) => {
    const path = parent ? `${parent}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ path, message }));
    return [...own, ...flatten(e.children ?? [], path)];
  });

/** A request DTO's body is a JSON object or absent: `null`, arrays and scalars are refused, not read as "no body". */
class LifelineValidationPipe extends ValidationPipe {
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const dto = metadata.type === 'body' && typeof metadata.metatype === 'function' && metadata.metatype !== Object;
    if (dto && value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) {
      throw new RequestInvalid('REQUEST.INVALID', 'The request body must be a JSON object');
    }
    return super.transform(value, metadata) as Promise<unknown>;
  }
}

/** class-validator at the edge: unknown properties refused, every problem listed by path. */
export const validationPipe = new LifelineValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  exceptionFactory: (errors) => new RequestInvalid('REQUEST.INVALID', 'The request is invalid', flatten(errors)),
});

/** Optional, but not nullable: class-validator's IsOptional also lets `null` through, which the commands would carry on. */
export const Absent = () => ValidateIf((_object: object, value: unknown) => value !== undefined);

/** A query integer written as plain digits; anything else ("", "1e3", "0x10") stays a string and fails @IsInt. */
export const QueryInteger = () =>
  Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^-?[0-9]{1,15}$/.test(value) ? Number(value) : value,
  );
