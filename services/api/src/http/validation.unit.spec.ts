import 'reflect-metadata';
import { ValidationPipe, type ArgumentMetadata } from '@nestjs/common';
import { ListTasksQuery } from '../tasks/tasks.controller';
import { RequestInvalid } from './api-errors';
import { validationPipe } from './validation';

const asQuery: ArgumentMetadata = { type: 'query', metatype: ListTasksQuery, data: '' };
/** ValidationPipe with the same options, every query through class-validator: what the answers must equal. */
const reference = new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true });
/** Express's query parser gives objects without a prototype. */
const query = (fields: Record<string, unknown>) => Object.assign(Object.create(null) as object, fields);

const refusal = async (fields: Record<string, unknown>) => {
  const error: unknown = await validationPipe.transform(query(fields), asQuery).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RequestInvalid);
  const { code, details } = error as RequestInvalid;
  return { code, details };
};
const paths = async (fields: Record<string, unknown>) =>
  ((await refusal(fields)).details as { path: string }[]).map((d) => d.path);

describe('validation pipe, query DTOs', () => {
  it('answers a valid query with the DTO ValidationPipe builds, without running class-validator', async () => {
    const valid: Record<string, string>[] = [
      {},
      { status: 'all', limit: '1', entityId: 'probe-INV-0' },
      { status: 'open', role: 'accounting', assignee: 'alice', definition: 'invoice-approval' },
      { entityType: 'Invoice', search: '', due: 'overdue', offset: '0', limit: '500', minPosition: '12' },
      { asOf: 'not checked here', entityId: 'x'.repeat(200), offset: '1000000000' },
    ];
    const fullValidation = jest.spyOn(validationPipe as unknown as { validate(): unknown }, 'validate');
    for (const fields of valid) {
      const fast = (await validationPipe.transform(query(fields), asQuery)) as object;
      const full = (await reference.transform(query(fields), asQuery)) as object;
      expect(fast).toBeInstanceOf(ListTasksQuery);
      expect({ fields, dto: fast, keys: Object.keys(fast) }).toEqual({ fields, dto: full, keys: Object.keys(full) });
    }
    expect((await validationPipe.transform(query({ limit: '7' }), asQuery)) as ListTasksQuery).toMatchObject({
      limit: 7,
    });
    expect(fullValidation).not.toHaveBeenCalled();
    fullValidation.mockRestore();
  });

  it('refuses every invalid query with the errors class-validator lists', async () => {
    expect(await refusal({ limit: '0' })).toEqual({
      code: 'REQUEST.INVALID',
      details: [{ path: 'limit', message: 'limit must not be less than 1' }],
    });
    expect(await refusal({ limit: '1e3', status: 'bogus' })).toEqual({
      code: 'REQUEST.INVALID',
      details: [
        {
          path: 'status',
          message: 'status must be one of the following values: new, ongoing, postponed, open, completed, all',
        },
        { path: 'limit', message: 'limit must not be greater than 500' },
        { path: 'limit', message: 'limit must not be less than 1' },
        { path: 'limit', message: 'limit must be an integer number' },
      ],
    });
    expect(await paths({ offset: '1000000001' })).toEqual(['offset']);
    expect(await paths({ entityId: 'x'.repeat(201) })).toEqual(['entityId']);
    expect(await paths({ due: 'tomorrow' })).toEqual(['due']);
    expect(await paths({ limit: '' })).toEqual(['limit', 'limit', 'limit']);
    // Unknown and repeated keys: the whitelist and the string rule answer them, as before.
    expect(await refusal({ colour: 'red' })).toEqual({
      code: 'REQUEST.INVALID',
      details: [{ path: 'colour', message: 'property colour should not exist' }],
    });
    expect(await refusal({ role: ['a', 'b'] })).toEqual({
      code: 'REQUEST.INVALID',
      details: [
        { path: 'role', message: 'role must be shorter than or equal to 100 characters' },
        { path: 'role', message: 'role must be a string' },
      ],
    });
    // A __proto__ key is dropped by ValidationPipe, as before.
    const proto = { ['__proto__']: 'x', status: 'all' };
    expect(await validationPipe.transform(query(proto), asQuery)).toEqual(
      await reference.transform(query(proto), asQuery),
    );
  });
});
