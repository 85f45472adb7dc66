import 'reflect-metadata';
import { LIST_TASKS_QUERY } from '../tasks/tasks.controller';
import { RequestInvalid } from './api-errors';
import { parseBody, parseQuery } from './validation';
import { z } from 'zod';

/** Express's query parser gives objects without a prototype. */
const query = (fields: Record<string, unknown>) => Object.assign(Object.create(null) as object, fields);

const refusal = (parse: () => unknown) => {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(RequestInvalid);
    const { code, message, details } = error as RequestInvalid;
    return { code, message, details: details as { path: string; message: string }[] | undefined };
  }
  throw new Error('accepted');
};
const paths = (fields: Record<string, unknown>) =>
  refusal(() => parseQuery(LIST_TASKS_QUERY, query(fields))).details!.map((d) => d.path);

describe('contract parsing, queries', () => {
  it('answers a valid query with its values, integers as numbers and nothing it was not sent', () => {
    expect(parseQuery(LIST_TASKS_QUERY, query({}))).toEqual({});
    expect(parseQuery(LIST_TASKS_QUERY, query({ status: 'all', limit: '1', entityId: 'probe-INV-0' }))).toEqual({
      status: 'all',
      limit: 1,
      entityId: 'probe-INV-0',
    });
    const fields = { entityType: 'Invoice', search: '', due: 'overdue', offset: '0', limit: '500', minPosition: '12' };
    expect(parseQuery(LIST_TASKS_QUERY, query(fields))).toEqual({ ...fields, offset: 0, limit: 500 });
    // minPosition and asOf are checked where they are read, to answer their own codes.
    expect(parseQuery(LIST_TASKS_QUERY, query({ asOf: 'not checked here', offset: '1000000000' }))).toEqual({
      asOf: 'not checked here',
      offset: 1_000_000_000,
    });
  });

  it('refuses every invalid query with REQUEST.INVALID and its problems by path', () => {
    expect(refusal(() => parseQuery(LIST_TASKS_QUERY, query({ limit: '0' })))).toMatchObject({
      code: 'REQUEST.INVALID',
      details: [{ path: 'limit', message: expect.stringMatching(/^limit: .*>=1/) }],
    });
    expect(paths({ limit: '1e3', status: 'bogus' })).toEqual(['limit', 'status']);
    expect(paths({ offset: '1000000001' })).toEqual(['offset']);
    expect(paths({ entityId: 'x'.repeat(201) })).toEqual(['entityId']);
    expect(paths({ due: 'tomorrow' })).toEqual(['due']);
    expect(paths({ limit: '' })).toEqual(['limit']);
    expect(paths({ limit: '0x10' })).toEqual(['limit']);
    // Unknown keys and repeated keys (arrays) are refused.
    expect(refusal(() => parseQuery(LIST_TASKS_QUERY, query({ colour: 'red' })))).toEqual({
      code: 'REQUEST.INVALID',
      message: 'The request is invalid',
      details: [{ path: 'colour', message: 'property colour should not exist' }],
    });
    expect(paths({ role: ['a', 'b'] })).toEqual(['role']);
  });

  it('drops a __proto__ key, as before', () => {
    expect(parseQuery(LIST_TASKS_QUERY, query({ ['__proto__']: 'x', status: 'all' }))).toEqual({ status: 'all' });
  });
});

describe('contract parsing, bodies', () => {
  const body = z.strictObject({ name: z.string(), tags: z.array(z.string().max(3)).optional() });

  it('refuses a body that is null, an array or a scalar: it must be a JSON object', () => {
    for (const value of [null, [], [{ name: 'x' }], 'text', 7, true]) {
      expect(refusal(() => parseBody(body, value))).toEqual({
        code: 'REQUEST.INVALID',
        message: 'The request body must be a JSON object',
        details: undefined,
      });
    }
  });

  it('reads an absent body as {} and lists every problem by path', () => {
    expect(refusal(() => parseBody(body, undefined)).details!.map((d) => d.path)).toEqual(['name']);
    expect(refusal(() => parseBody(body, { name: 1, tags: ['ok', 'long'], extra: 1 })).details).toEqual([
      { path: 'name', message: expect.stringMatching(/^name: /) },
      { path: 'tags.1', message: expect.stringMatching(/^tags\.1: /) },
      { path: 'extra', message: 'property extra should not exist' },
    ]);
    expect(parseBody(body, { name: 'a' })).toEqual({ name: 'a' });
  });
});
