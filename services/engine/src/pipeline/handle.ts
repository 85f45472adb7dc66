import { foldEvents, partitionKeyOfRecord, recordKeyFor, type Decider } from '@lifeline/process-domain';
import { WrongExpectedRevision, type EventMetadataIn, type StoreTx, type StoredEvent } from '@lifeline/event-store';
import { eventIdsFor } from '../shared/ids';
import { metadataFor, type CommandOrigin } from '../shared/metadata';

/** A stream's state as of one of its revisions (-1: no stream yet). */
export interface StreamState<S> {
  state: S;
  revision: number;
  /** Global position of the event at `revision` (0 when none). */
  position: number;
}

/**
 * Recent states of one family of streams, least recently used evicted. An entry moves forward only
 * when the unit that produced it committed, so a rolled-back unit never leaves a state behind.
 */
export class StateCache<S> {
  private readonly entries = new Map<string, StreamState<S>>();
  constructor(private readonly capacity: number) {}

  get(streamId: string): StreamState<S> | undefined {
    const entry = this.entries.get(streamId);
    if (entry !== undefined) {
      // Map order is insertion order: re-inserting keeps the most recently used last.
      this.entries.delete(streamId);
      this.entries.set(streamId, entry);
    }
    return entry;
  }

  set(streamId: string, entry: StreamState<S>): void {
    const current = this.entries.get(streamId);
    if (current !== undefined && current.revision > entry.revision) return;
    this.entries.delete(streamId);
    this.entries.set(streamId, entry);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }

  get size(): number {
    return this.entries.size;
  }
}

export interface CommandRequest<S, C, E, Ctx> {
  streamId: string;
  decider: Decider<S, C, E, Ctx>;
  command: C;
  /** What the decision needs besides the state (time, actor, the definition version the state names). */
  context(state: S): Ctx | Promise<Ctx>;
  /** The codec for this stream's stored events. */
  decode(stored: StoredEvent): E;
  origin: CommandOrigin;
  actor: string;
  /** When the events are recorded (metadata.at). */
  at: string;
  /**
   * `any`: the decision needs no state (recording an entity event), so the stream is not read and
   * the events go after whatever is there; ids must then not depend on the revision.
   */
  expectedRevision?: 'any';
  /** Event ids for the decided events; by default derived from the command id and the revision. */
  ids?: (count: number, firstRevision: number) => string[];
  cache?: StateCache<S>;
  /**
   * The record the stream's events belong to (`<entityType>:<entityId>`), for events that do not name one
   * themselves (an instance's events belong to its record): the partition whose owner reacts to them.
   */
  partitionKey?: (state: S) => string | undefined;
  /**
   * The stream is most likely new (a start): decide on the initial state without reading it and
   * append expecting no stream; if it exists after all, the conflict makes the next attempt read it.
   */
  expectNew?: boolean;
}

export interface CommandOutcome<S, E> {
  /** The events appended ([] when the decision changed nothing, or they were appended before). */
  events: E[];
  state: S;
  revision: number;
  /** Global position of the stream's last event (appended now or before). */
  position: number;
  /** The same command was handled before (its first event id is already stored). */
  duplicate: boolean;
}

const MAX_ATTEMPTS = 8;

/**
 * The one command pipeline, for every stream: load the state (a cached one brought up to date with
 * the events since), decide, append with the expected revision, and on a conflict decide again on
 * the newer state. Ids are deterministic for deterministic command ids, so a command repeated after
 * a crash appends nothing.
 */
export async function handleCommand<S, C, E extends { type: string; data: unknown }, Ctx>(
  tx: StoreTx,
  request: CommandRequest<S, C, E, Ctx>,
): Promise<CommandOutcome<S, E>> {
  const { streamId, decider, command, origin } = request;
  let assumeNew = request.expectNew === true && request.cache?.get(streamId) === undefined;
  for (let attempt = 1; ; attempt++) {
    const loaded =
      request.expectedRevision === 'any' || assumeNew
        ? { state: decider.initialState(), revision: -1, position: 0 }
        : await loadStream(tx, request);
    // Most contexts are at hand (a record, a cached definition): no await, no microtask turn, for those.
    const pending = request.context(loaded.state);
    const context = pending instanceof Promise ? await pending : pending;
    // A decider that folded its events while deciding hands over the state they lead to.
    const decision = decider.decideState?.(loaded.state, command, context);
    const events = decision ? decision.events : decider.decide(loaded.state, command, context);
    if (events.length === 0) return { events, ...loaded, duplicate: false };
    const firstRevision = loaded.revision + 1;
    const ids =
      request.ids?.(events.length, firstRevision) ??
      eventIdsFor(origin.commandId, events.length, firstRevision, origin.idTime ?? request.at);
    const metadata = metadataFor(origin, request.actor, request.at);
    try {
      const result = await tx.append({
        streamId,
        expectedRevision: request.expectedRevision ?? (loaded.revision < 0 ? 'no-stream' : loaded.revision),
        events: tx.keepsPartitions
          ? withPartitionKeys(streamId, events, metadata, request.partitionKey?.(loaded.state)).map(
              ([event, eventMetadata], i) => ({
                id: ids[i]!,
                type: event.type,
                data: event.data,
                metadata: eventMetadata,
              }),
            )
          : events.map((event, i) => ({ id: ids[i]!, type: event.type, data: event.data, metadata })),
      });
      if (result.duplicate) return { events: [], ...loaded, position: result.position, duplicate: true };
      const state = decision ? decision.state : foldEvents(decider, events, loaded.state);
      const cache = request.cache;
      if (cache)
        tx.onCommit(() => cache.set(streamId, { state, revision: result.nextRevision, position: result.position }));
      return { events, state, revision: result.nextRevision, position: result.position, duplicate: false };
    } catch (error) {
      // Someone appended first (or the stream was not new): decide again on what is there.
      if (error instanceof WrongExpectedRevision && attempt < MAX_ATTEMPTS) {
        assumeNew = false;
        continue;
      }
      throw error;
    }
  }
}

/**
 * Each event with its metadata, naming the record the event belongs to (its partition key): the record it
 * names itself (an entity stream's, a child's), else the stream's. Events of one record share one metadata
 * object, which the store serialises once.
 */
function withPartitionKeys<E extends { type: string; data: unknown }>(
  streamId: string,
  events: readonly E[],
  metadata: EventMetadataIn,
  streamKey: string | undefined,
): [E, EventMetadataIn][] {
  const shared = streamKey === undefined ? metadata : { ...metadata, partitionKey: streamKey };
  return events.map((event) => {
    const named = recordKeyFor(streamId, event);
    const key = named === undefined ? streamKey : partitionKeyOfRecord(named);
    return [event, key === streamKey ? shared : { ...metadata, ...(key !== undefined ? { partitionKey: key } : {}) }];
  });
}

/** The stream's state: the cached one and the events after it, or folded from the start. */
export async function loadStream<S, C, E, Ctx>(
  tx: Pick<StoreTx, 'readStream'>,
  request: Pick<CommandRequest<S, C, E, Ctx>, 'streamId' | 'decider' | 'decode' | 'cache'>,
): Promise<StreamState<S>> {
  const cached = request.cache?.get(request.streamId);
  const base = cached ?? { state: request.decider.initialState(), revision: -1, position: 0 };
  const newer = await tx.readStream(request.streamId, { fromRevision: base.revision + 1 });
  if (newer.length === 0) return base;
  const last = newer[newer.length - 1]!;
  return {
    state: foldEvents(request.decider, newer.map(request.decode), base.state),
    revision: last.revision,
    position: last.position,
  };
}
