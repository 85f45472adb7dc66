import { ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { getMetadataStorage, ValidateIf, type ValidationArguments } from 'class-validator';
import { plainToInstance, Transform } from 'class-transformer';
import { RequestInvalid } from './api-errors';

type ValidationMetadata = ReturnType<ReturnType<typeof getMetadataStorage>['getTargetValidationMetadatas']>[number];

const flatten = (errors: ValidationError[], parent = ''): { path: string; message: string }[] =>
  errors.flatMap((e) => {
    const path = parent ? `${parent}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ path, message }));
    return [...own, ...flatten(e.children ?? [], path)];
  });

/** A property's class-validator rules, as class-validator runs them: conditions first, then the checks. */
interface PropertyRules {
  conditions: ValidationMetadata[];
  checks: ValidationMetadata[];
}

/**
 * The rules of a query DTO whose every rule is a condition (IsOptional, ValidateIf) or a plain synchronous check
 * (IsString, MaxLength, IsIn, IsInt, Min, Max…); undefined for any other kind (nested, IsDefined, Allow, `each`, groups).
 */
function rulesOf(metatype: new () => object): Map<string, PropertyRules> | undefined {
  const metadatas = getMetadataStorage().getTargetValidationMetadatas(metatype, '', false, false, undefined);
  if (metadatas.length === 0) return undefined;
  const rules = new Map<string, PropertyRules>();
  for (const metadata of metadatas) {
    if (metadata.each || metadata.always || (metadata.groups?.length ?? 0) > 0) return undefined;
    let property = rules.get(metadata.propertyName);
    if (property === undefined) rules.set(metadata.propertyName, (property = { conditions: [], checks: [] }));
    if (metadata.type === 'conditionalValidation') property.conditions.push(metadata);
    else if (metadata.type === 'customValidation') property.checks.push(metadata);
    else return undefined;
  }
  return rules;
}

/**
 * A request DTO's body is a JSON object or absent: `null`, arrays and scalars are refused, not read as "no body".
 * A query whose every value is a string and passes every rule is built here with the same class-transformer call
 * and checked with the same class-validator functions, without class-validator's error bookkeeping (most of what
 * a small GET cost in the pipe); anything else, every refusal included, goes through ValidationPipe as before.
 */
class LifelineValidationPipe extends ValidationPipe {
  private readonly queryRules = new Map<unknown, Map<string, PropertyRules> | undefined>();

  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const dto = metadata.type === 'body' && typeof metadata.metatype === 'function' && metadata.metatype !== Object;
    if (dto && value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) {
      throw new RequestInvalid('REQUEST.INVALID', 'The request body must be a JSON object');
    }
    if (metadata.type === 'query' && this.toValidate(metadata)) {
      const valid = this.validQuery(value, metadata.metatype as new () => object);
      if (valid !== undefined) return Promise.resolve(valid);
    }
    return super.transform(value, metadata) as Promise<unknown>;
  }

  /** The DTO when the query certainly passes; undefined when ValidationPipe must decide (and answer the errors). */
  private validQuery(value: unknown, metatype: new () => object): object | undefined {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    if (!this.queryRules.has(metatype)) this.queryRules.set(metatype, rulesOf(metatype));
    const rules = this.queryRules.get(metatype);
    if (rules === undefined) return undefined;
    const query = value as Record<string, unknown>;
    for (const key of Object.keys(query)) {
      // Unknown keys (refused by the whitelist), repeated keys (arrays) and __proto__ are ValidationPipe's to answer.
      if (typeof query[key] !== 'string' || !rules.has(key)) return undefined;
    }
    const entity = plainToInstance(metatype, query) as Record<string, unknown>;
    if (entity.constructor !== metatype) return undefined;
    for (const key of Object.keys(entity)) if (!rules.has(key)) return undefined;
    const storage = getMetadataStorage();
    for (const [property, { conditions, checks }] of rules) {
      const v = entity[property];
      // class-validator evaluates every condition, and skips the checks unless all of them hold.
      const applies = conditions
        .map((c) => (c.constraints[0] as (object: object, value: unknown) => boolean)(entity, v))
        .reduce((a, b) => a && b, true);
      if (!applies) continue;
      for (const check of checks) {
        const args: ValidationArguments = {
          targetName: metatype.name,
          property,
          object: entity,
          value: v,
          constraints: check.constraints,
        };
        for (const constraint of storage.getTargetValidatorConstraints(check.constraintCls)) {
          if (constraint.async) return undefined;
          if (
            (constraint.instance as { validate(v: unknown, a: ValidationArguments): unknown }).validate(v, args) !==
            true
          )
            return undefined;
        }
      }
    }
    return entity;
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
