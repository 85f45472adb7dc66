import { hash } from 'node:crypto';
import { deterministicUuid, entityEventStoreId, eventIdsFor, instanceIdFor, timeOrderedUuid } from './ids';

/** The ids as the first version computed them (bytes of the SHA-1, RFC 4122 bits set on the bytes): stored ids must not change. */
const reference = {
  deterministic(name: string): string {
    const digest = hash('sha1', `lifeline/v1\u0000${name}`, 'buffer');
    digest[6] = (digest[6]! & 0x0f) | 0x50;
    digest[8] = (digest[8]! & 0x3f) | 0x80;
    return format(digest.toString('hex'));
  },
  timeOrdered(name: string, at: string | number): string {
    const ms = typeof at === 'number' ? at : Date.parse(at);
    const time = Math.max(0, Math.min(Number.isFinite(ms) ? ms : 0, 2 ** 48 - 1))
      .toString(16)
      .padStart(12, '0');
    const digest = hash('sha1', `lifeline/v1\u0000${name}`, 'buffer');
    digest[6] = (digest[6]! & 0x0f) | 0x70;
    digest[8] = (digest[8]! & 0x3f) | 0x80;
    return format(time + digest.toString('hex').slice(12, 32));
  },
};
const format = (hex: string): string =>
  `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;

const TIMES = ['2026-11-21T10:00:00.000Z', '2026-11-21T10:00:00.001Z', '1970-01-01T00:00:00.000Z', 'not a time'];

describe('ids', () => {
  it('given names and times, then every id is the one the byte-wise layout gives (ids already stored stay valid)', () => {
    for (let i = 0; i < 2_000; i++) {
      const name = `start:invoice-approval:${i}#${i % 3}`;
      const at = TIMES[i % TIMES.length]!;
      expect(deterministicUuid(name)).toBe(reference.deterministic(name));
      expect(timeOrderedUuid(name, at)).toBe(reference.timeOrdered(name, at));
    }
  });

  it('given the same name, then the ids are pinned to these values', () => {
    expect(deterministicUuid('entity-event:evt-1')).toBe('879d7387-5ba8-509d-8be0-c065ab9ce22e');
    expect(entityEventStoreId('evt-1')).toBe('879d7387-5ba8-509d-8be0-c065ab9ce22e');
    expect(timeOrderedUuid('start:invoice-approval:evt-1', '2026-11-21T10:00:00.000Z')).toBe(
      '01a1fd8c-6900-7773-bb8c-f398abbf9799',
    );
    expect(instanceIdFor('evt-1', 'invoice-approval', '2026-11-21T10:00:00.000Z')).toBe(
      '01a1fd8c-6900-7773-bb8c-f398abbf9799',
    );
  });

  it('given times at and beyond the edges, then the time part is clamped as before (numbers, NaN, past 2^48 ms)', () => {
    for (const at of [0, -5, 2 ** 48, 2 ** 48 + 10, Number.NaN, 1_764_000_000_123, '+275760-09-13T00:00:00.000Z']) {
      expect(timeOrderedUuid('x', at)).toBe(reference.timeOrdered('x', at));
    }
  });

  it('given a time and then another, then each id carries its own time (the last time is not reused for a new one)', () => {
    const a = timeOrderedUuid('n', '2026-11-21T10:00:00.000Z');
    const b = timeOrderedUuid('n', '2026-11-21T10:00:01.000Z');
    const c = timeOrderedUuid('n', '2026-11-21T10:00:00.000Z');
    expect([a, b, c]).toEqual([
      reference.timeOrdered('n', '2026-11-21T10:00:00.000Z'),
      reference.timeOrdered('n', '2026-11-21T10:00:01.000Z'),
      reference.timeOrdered('n', '2026-11-21T10:00:00.000Z'),
    ]);
    expect(a).not.toBe(b);
  });

  it('given a command id, then its event ids follow its revisions, time-ordered with a time and name-derived without', () => {
    expect(eventIdsFor('cmd-1', 3, 2, '2026-11-21T10:00:00.000Z')).toEqual(
      [2, 3, 4].map((r) => reference.timeOrdered(`cmd-1#${r}`, '2026-11-21T10:00:00.000Z')),
    );
    expect(eventIdsFor('cmd-1', 2)).toEqual([0, 1].map((r) => reference.deterministic(`cmd-1#${r}`)));
    expect(eventIdsFor('cmd-1', 0, 0, '2026-11-21T10:00:00.000Z')).toEqual([]);
  });
});
