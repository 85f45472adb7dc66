import { createParamDecorator, type ExecutionContext, type PipeTransform } from '@nestjs/common';
import { ApiBody } from '@nestjs/swagger';
import type { Request } from 'express';
import { z } from 'zod';
import { RequestInvalid } from './api-errors';
import { ApiQueryOf, refTo } from './openapi';

/** A problem by path, as every 400 lists them: `entity.type`, `answers.3`, or '' for the whole body. */
export interface Problem {
  path: string;
  message: string;
}

const problemsOf = (issues: readonly z.core.$ZodIssue[]): Problem[] =>
  issues.flatMap((issue) => {
    const path = issue.path.map(String).join('.');
    // One entry per unknown property, as the whitelist answered them before.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: path ? `${path}.${key}` : key,
        message: `property ${key} should not exist`,
      }));
    }
    return [{ path, message: path ? `${path}: ${issue.message}` : issue.message }];
  });

/** Parses with the contract's schema; refuses with REQUEST.INVALID and every problem by path. */
export function parseContract<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success)
    throw new RequestInvalid('REQUEST.INVALID', 'The request is invalid', problemsOf(result.error.issues));
  return result.data;
}

/** A body is a JSON object or absent (read as `{}`): `null`, arrays and scalars are refused, not read as "no body". */
export function parseBody<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  if (value === undefined) return parseContract(schema, {});
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new RequestInvalid('REQUEST.INVALID', 'The request body must be a JSON object');
  }
  return parseContract(schema, value);
}

/** A query: repeated keys (arrays) and unknown keys are refused by the schema; a `__proto__` key is dropped, as before. */
export function parseQuery<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  if (value !== null && typeof value === 'object' && Object.hasOwn(value, '__proto__')) {
    value = Object.fromEntries(Object.entries(value).filter(([key]) => key !== '__proto__'));
  }
  return parseContract(schema, value ?? {});
}

const pipe = (parse: (schema: z.ZodType, value: unknown) => unknown, schema: z.ZodType): PipeTransform => ({
  transform: (value: unknown) => parse(schema, value),
});

const requestBody = createParamDecorator((_: unknown, context: ExecutionContext) => {
  return context.switchToHttp().getRequest<Request>().body as unknown;
});
const requestQuery = createParamDecorator((_: unknown, context: ExecutionContext) => {
  return context.switchToHttp().getRequest<Request>().query as unknown;
});

/** A method decorator applied from a parameter decorator: the contract is named once, on the parameter. */
const onMethod = (target: object, key: string | symbol | undefined, decorator: MethodDecorator) => {
  if (key === undefined) throw new Error('a contract parameter decorates a method');
  decorator(target, key, Object.getOwnPropertyDescriptor(target, key)!);
};

/** The body, parsed with a named schema (openapi.ts `named`), and documented as that schema. */
export const ValidBody =
  (schema: z.ZodType, options: { required?: boolean; description?: string } = {}): ParameterDecorator =>
  (target, key, index) => {
    requestBody(pipe(parseBody, schema))(target, key, index);
    onMethod(target, key, ApiBody({ schema: refTo(schema), ...options }));
  };

/** The query, parsed with a strict object schema (unknown keys refused) and documented parameter by parameter. */
export const ValidQuery =
  (schema: z.ZodObject): ParameterDecorator =>
  (target, key, index) => {
    requestQuery(pipe(parseQuery, schema))(target, key, index);
    onMethod(target, key, ApiQueryOf(schema));
  };

/** Present, or absent: `null` is refused (the commands would carry it on). */
export const absent = <S extends z.ZodType>(schema: S) => schema.optional();

/** A query integer written as plain digits; anything else ("", "1e3", "0x10") is refused. Documented as an integer. */
export const queryInteger = (min: number, max: number) =>
  z
    .string()
    .regex(/^-?[0-9]{1,15}$/, 'must be an integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** A JSON object kept as sent (not copied: a `__proto__` key stays for the data checks that refuse it). */
export const jsonObject = (description: string) =>
  z
    .custom<Record<string, unknown>>(
      (value) => value !== null && typeof value === 'object' && !Array.isArray(value),
      'must be an object',
    )
    .meta({ type: 'object', additionalProperties: true, description });
