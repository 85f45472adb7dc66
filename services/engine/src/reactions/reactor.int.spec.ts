import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SqliteEventStore, verifyStream, type StoreTx } from '@lifeline/event-store';
import { parseDefinition, type EntityEventEnvelope, type Reaction } from '@lifeline/process-domain';
import { T0 } from '@lifeline/testing';
import { isInfrastructureError } from '../shared/failure-policy';
import { eventIdsFor } from '../shared/ids';
import { Reactor, type ReactionEffects } from './reactor';
import { ReactorState } from './reactor-state';

const silent = pino({ level: 'silent' });
const metadata = { correlationId: 'c', causationId: 'c', actor: 'system', at: T0 };

const definition = parseDefinition(
  JSON.stringify({
    key: 'review',
    name: 'Review',
    relatedEntity: 'Order',
    triggers: [{ on: 'created' }],
    start: 'look',
    activities: {
      look: { type: 'human', title: 'Look', assignee: { role: 'clerks' }, next: 'done' },
      done: { type: 'end' },
    },
  }),
  'application/json',
);

/**
 * Starts write two appends to the instance's stream; an order whose id starts with `half` fails
 * after the first, with a poison error (not the store's): the failure must take its first append along.
 */
class TwoAppendEffects implements ReactionEffects {
  readonly applied: string[] = [];
  readonly failures: string[] = [];

  async apply(tx: StoreTx, reaction: Reaction): Promise<void> {
    if (reaction.type !== 'StartInstance') throw new Error(`unexpected ${reaction.type}`);
    const { instanceId, entity } = reaction.command;
    const [first, second] = eventIdsFor(reaction.origin.commandId, 2, 0, reaction.origin.idTime);
    const streamId = `instance-${instanceId}`;
    const event = (id: string, visit: number) => ({
      id,
      type: 'ActivityEntered',
      data: { activityId: 'look', activityType: 'human', visit },
      metadata,
    });
    await tx.append({ streamId, expectedRevision: 'no-stream', events: [event(first!, 1)] });
    if (entity.id.startsWith('half')) throw new TypeError(`${entity.id} broke half-way`);
    await tx.append({ streamId, expectedRevision: 0, events: [event(second!, 2)] });
    this.applied.push(entity.id);
  }

  async failed(tx: StoreTx, reaction: Reaction, error: unknown): Promise<void> {
    if (reaction.type !== 'StartInstance') throw new Error(`unexpected ${reaction.type}`);
    const { entity } = reaction.command;
    await tx.append({
      streamId: `entity-${entity.type}-${entity.id}`,
      expectedRevision: 'any',
      events: [
        {
          id: eventIdsFor(`failed:${reaction.origin.commandId}`, 1)[0]!,
          type: 'StartFailed',
          data: { message: String(error) },
          metadata,
        },
      ],
    });
    this.failures.push(entity.id);
  }
}

const order = (id: string): EntityEventEnvelope => ({
  id: `evt-${id}`,
  entityType: 'Order',
  entityId: id,
  kind: 'created',
  occurredAt: T0,
  data: {},
});

describe('the reactor on the SQLite store: the reactions of a unit share a savepoint until one fails', () => {
  let dir: string;
  let store: SqliteEventStore;
  let effects: TwoAppendEffects;
  let reactor: Reactor;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-reactor-'));
    store = SqliteEventStore.open(join(dir, 'events.db'));
    effects = new TwoAppendEffects();
    reactor = new Reactor(new ReactorState(store.sidecar, true), effects, isInfrastructureError, silent);
    await unit(async (tx) => {
      await tx.append({
        streamId: 'definition-review',
        expectedRevision: 'no-stream',
        events: [
          {
            id: eventIdsFor('publish', 1)[0]!,
            type: 'DefinitionPublished',
            data: { key: 'review', version: 1, definition },
            metadata,
          },
        ],
      });
    });
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A unit as the write path runs it: catch up, the work, then react to what it appended. */
  const unit = (work: (tx: StoreTx) => Promise<void>): Promise<void> =>
    store.unitOfWork(async (tx) => {
      await reactor.catchUp(tx);
      await work(tx);
      await reactor.drain(tx);
    });

  const record = (tx: StoreTx, ids: string[]) =>
    Promise.all(
      ids.map((id) =>
        tx.append({
          streamId: `entity-Order-${id}`,
          expectedRevision: 'any',
          events: [
            {
              id: eventIdsFor(`record:${id}`, 1)[0]!,
              type: 'EntityEventRecorded',
              data: { envelope: order(id), source: { kind: 'http' } },
              metadata,
            },
          ],
        }),
      ),
    );

  const instanceStreams = async () => {
    const streams = new Map<string, number>();
    for (const event of await store.readAll(0, 1_000, ['instance-'])) {
      streams.set(event.streamId, (streams.get(event.streamId) ?? 0) + 1);
    }
    return [...streams.values()];
  };

  it('given a unit whose reactions all succeed, then each start wrote both its appends and the reactor is at the head', async () => {
    await unit((tx) => record(tx, ['a', 'b', 'c']).then(() => undefined));
    expect(effects.applied).toEqual(['a', 'b', 'c']);
    expect(effects.failures).toEqual([]);
    expect(await instanceStreams()).toEqual([2, 2, 2]);
    expect(reactor.state.checkpoint()).toBe(await store.headPosition());
  });

  it('given a reaction that fails after its first append, then nothing of it stays, its failure is recorded once, and the reactions before and after it stand', async () => {
    await unit((tx) => record(tx, ['a', 'half-b', 'c']).then(() => undefined));
    expect(effects.failures).toEqual(['half-b']);
    // Each stream holds its two events: the failed start's first append went back with it.
    expect(await instanceStreams()).toEqual([2, 2]);
    expect((await store.readStream('entity-Order-half-b')).map((e) => e.type)).toEqual([
      'EntityEventRecorded',
      'StartFailed',
    ]);
    const log = await store.readAll(0, 1_000);
    expect(log.map((e) => e.position)).toEqual(log.map((_, i) => i + 1));
    for (const streamId of new Set(log.map((e) => e.streamId))) {
      expect(verifyStream(await store.readStream(streamId)).ok).toBe(true);
    }
    expect(reactor.state.checkpoint()).toBe(await store.headPosition());
  });

  it('given a failed reaction in one unit, then the next unit reacts as usual', async () => {
    await unit((tx) => record(tx, ['half-a']).then(() => undefined));
    await unit((tx) => record(tx, ['b']).then(() => undefined));
    expect(effects.failures).toEqual(['half-a']);
    expect(effects.applied.filter((id) => id === 'b')).toHaveLength(1);
    expect(await instanceStreams()).toEqual([2]);
    expect(reactor.state.checkpoint()).toBe(await store.headPosition());
  });
});
