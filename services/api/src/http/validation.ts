import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { RequestInvalid } from './api-errors';

const flatten = (errors: ValidationError[], parent = ''): { path: string; message: string }[] =>
  errors.flatMap((e) => {
    const path = parent ? `${parent}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ path, message }));
    return [...own, ...flatten(e.children ?? [], path)];
  });

/** class-validator at the edge: unknown properties refused, every problem listed by path. */
export const validationPipe = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  exceptionFactory: (errors) => new RequestInvalid('REQUEST.INVALID', 'The request is invalid', flatten(errors)),
});
