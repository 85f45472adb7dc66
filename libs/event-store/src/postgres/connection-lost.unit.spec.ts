import type { StoredEvent } from '../event-store';
import { PollingSubscription, type PollingSource } from '../polling-subscription';
import { isConnectionLost } from './connection-lost';

const event = (position: number): StoredEvent => ({
  id: `e${position}`,
  type: 'A',
  data: {},
  metadata: {
    correlationId: 'c',
    causationId: 'c',
    actor: 'a',
    at: '2026-11-21T10:00:00.000Z',
    messageId: `e${position}`,
  },
  streamId: 's',
  revision: position - 1,
  position,
});

/** A log of three events whose reads fail with `failures`, one after the other, before they go through. */
function source(failures: unknown[]): PollingSource & { reads: number } {
  const log = [event(1), event(2), event(3)];
  return {
    reads: 0,
    async head() {
      return 3;
    },
    async read(from, max) {
      this.reads++;
      const failure = failures.shift();
      if (failure !== undefined) throw failure;
      return log.filter((e) => e.position > from).slice(0, max);
    },
    onAppended: () => () => undefined,
    onStopped: () => undefined,
  };
}

describe('a PostgreSQL subscription (PollingSubscription retrying on isConnectionLost)', () => {
  it('given the server drops its connection, when a read fails, then it reads again from its cursor and reports no error', async () => {
    const delivered: number[] = [];
    const errors: unknown[] = [];
    const terminated = Object.assign(new Error('terminating connection due to administrator command'), {
      code: '57P01',
    });
    const from = source([terminated, new Error('Connection terminated unexpectedly')]);
    const subscription = new PollingSubscription(
      from,
      async (events) => void delivered.push(...events.map((e) => e.position)),
      {
        fromPosition: 0,
        batchSize: 10,
        pollIntervalMs: 1,
        onError: (error) => errors.push(error),
        retryable: isConnectionLost,
      },
    );
    subscription.start();
    expect(await subscription.caughtUpTo(3, 5000)).toBe(true);
    await subscription.stop();
    expect(delivered).toEqual([1, 2, 3]);
    expect(errors).toEqual([]);
    expect(from.reads).toBe(3);
  });

  it('given a read fails for another reason (a bad query), then the subscription stops and reports it', async () => {
    const errors: unknown[] = [];
    const bad = Object.assign(new Error('relation does not exist'), { code: '42P01' });
    const subscription = new PollingSubscription(source([bad]), async () => undefined, {
      fromPosition: 0,
      batchSize: 10,
      pollIntervalMs: 1,
      onError: (error) => errors.push(error),
      retryable: isConnectionLost,
    });
    subscription.start();
    expect(await subscription.caughtUpTo(3, 1000)).toBe(false);
    expect(errors).toEqual([bad]);
  });

  it.each([
    [{ code: 'ECONNREFUSED' }, true],
    [{ code: '08006' }, true],
    [{ code: '57P03' }, true],
    [new Error('Connection terminated unexpectedly'), true],
    [{ code: '23505' }, false],
    [new Error('boom'), false],
    [undefined, false],
  ])('isConnectionLost(%p) is %p', (error, lost) => {
    expect(isConnectionLost(error)).toBe(lost);
  });
});
