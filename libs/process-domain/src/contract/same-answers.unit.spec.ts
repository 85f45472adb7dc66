import { validateDefinition } from '../definition/validate-definition';
import { DEFAULT_ENVELOPE_LIMITS, validateEnvelope } from '../entity/validate-envelope';

/**
 * Answers the hand-written validators gave, pinned when the zod schemas replaced them (decision 0011): each was
 * once answered differently by a draft of the schemas (a second issue, another message, another key order).
 */
const envelope = () => ({
  id: 'evt-1',
  entityType: 'Invoice',
  entityId: 'INV-7',
  kind: 'updated',
  occurredAt: '2026-11-21T10:00:00Z',
  data: { amount: 1 },
  changed: ['amount'],
});
const envelopeIssues = (input: unknown, limits = DEFAULT_ENVELOPE_LIMITS) => {
  const result = validateEnvelope(input, limits);
  return result.ok ? [] : result.issues;
};

describe('validateEnvelope answers as before', () => {
  it('given data null, then data is a wrong value, not a missing one', () => {
    expect(envelopeIssues({ ...envelope(), data: null })).toEqual([
      { path: 'data', message: 'must be an object (not an array, not null)' },
    ]);
  });

  it('given an id that is a list, then one issue, not also a length', () => {
    expect(envelopeIssues({ ...envelope(), id: [] })).toEqual([{ path: 'id', message: 'must be a non-empty string' }]);
  });

  it('given a changed field longer than the call’s limit, then the message names that limit', () => {
    const limits = { ...DEFAULT_ENVELOPE_LIMITS, maxStringLength: 5 };
    expect(envelopeIssues({ ...envelope(), data: { a: 1 }, changed: ['amount'] }, limits)).toEqual([
      { path: 'changed[0]', message: 'must be at most 5 characters' },
    ]);
  });

  it('given an envelope with its keys in another order, then the accepted envelope has the contract’s order', () => {
    const { data, changed, kind, ...rest } = envelope();
    const result = validateEnvelope({ changed, data, kind, ...rest });
    expect(result.ok && Object.keys(result.envelope)).toEqual([
      'id',
      'entityType',
      'entityId',
      'kind',
      'occurredAt',
      'data',
      'changed',
    ]);
  });
});

const definition = (extra: Record<string, unknown> = {}, activities: Record<string, unknown> = {}) => ({
  key: 'd',
  name: 'D',
  relatedEntity: 'Invoice',
  start: 'a',
  activities: { a: { type: 'automatic', set: { x: '1' }, next: 'e' }, e: { type: 'end' }, ...activities },
  ...extra,
});
const definitionIssues = (doc: unknown) => {
  const result = validateDefinition(doc);
  return result.ok ? [] : result.issues.map((issue) => `${issue.path}: ${issue.message}`);
};

describe('validateDefinition answers as before', () => {
  it('given an empty cron or time zone, then one issue each, no schedule check of it', () => {
    expect(definitionIssues(definition({ triggers: [{ on: 'schedule', cron: '' }] }))).toEqual([
      'triggers[0].cron: must be a non-empty string',
    ]);
    expect(definitionIssues(definition({ triggers: [{ on: 'schedule', cron: '0 7 * * *', timeZone: '' }] }))).toEqual([
      'triggers[0].timeZone: must be a non-empty string',
    ]);
  });

  it('given startableBy as text, then one issue, not also a count of its characters', () => {
    expect(definitionIssues(definition({ startableBy: 'x'.repeat(300) }))).toEqual([
      'startableBy: must be a non-empty list of role names (leave it out to let only admins start it)',
    ]);
  });

  it('given a variable set to null, then the value must be text (it is no missing key)', () => {
    expect(definitionIssues(definition({}, { a: { type: 'automatic', set: { x: null }, next: 'e' } }))).toEqual([
      'activities.a.set.x: must be a non-empty string',
    ]);
  });

  it('given an entity trigger whose on is a number, then the text message', () => {
    expect(definitionIssues(definition({ triggers: [{ on: 7 }] }))).toEqual([
      'triggers[0].on: must be a non-empty string',
    ]);
  });

  it('given an assignee with an unknown key and two kinds, then both are named', () => {
    const task = { type: 'human', title: 'T', assignee: { user: 'u', role: 'r', team: 'x' }, next: 'e' };
    expect(definitionIssues(definition({}, { a: task }))).toEqual([
      'activities.a.assignee.team: unknown key',
      'activities.a.assignee: must have exactly one of user, role, userFrom',
    ]);
  });

  it('given invalid results, then only they are named, not the next per result that names them', () => {
    const task = { type: 'human', title: 'T', assignee: { role: 'r' }, results: ['Yes', 'Yes'], next: { Yes: 'e' } };
    expect(definitionIssues(definition({}, { a: task }))).toEqual(["activities.a.results[1]: 'Yes' is listed twice"]);
  });

  it('given onRecordDeleted and conditionalStarts, then the normalised definition keeps the documented key order', () => {
    const result = validateDefinition(
      definition({ conditionalStarts: [{ when: 'true', next: 'e' }], onRecordDeleted: { next: 'e' } }),
    );
    expect(result.ok && Object.keys(result.definition).slice(-2)).toEqual(['onRecordDeleted', 'conditionalStarts']);
  });
});
