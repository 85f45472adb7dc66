import {
  concernsReactions,
  decideReactions,
  decideScheduleTicks,
  decideTimer,
  decodeEvent,
  definitionsStateOf,
  evolveDefinitionsWith,
  evolveRecord,
  readsRecordData,
  recordKeyOf,
  type DefinitionsState,
  type LoggedEvent,
  type Reaction,
  type RecordState,
} from '@lifeline/process-domain';
import type { StoreTx, StoredEvent } from '@lifeline/event-store';
import type { Logger } from 'pino';
import { eventIdsFor, timeOrderedUuid } from '../shared/ids';
import type { ReactorState } from './reactor-state';

/** What applying a reaction means: the commands the reactions decider asks for, sent in a unit. */
export interface ReactionEffects {
  apply(tx: StoreTx, reaction: Reaction): Promise<void>;
  /** A reaction failed for a reason that is not the store's: record it where people see it, and go on. */
  failed(tx: StoreTx, reaction: Reaction, error: unknown): Promise<void>;
}

/** Errors of the store itself: the unit fails and is retried, nothing is recorded as a failure of a reaction. */
export type IsInfrastructureError = (error: unknown) => boolean;

const context = { idFor: timeOrderedUuid };

/**
 * How a pass applies its reactions: `each` in a savepoint of its own (a failure is recorded and the
 * others go on); `pass` all in the pass's one savepoint, for the common case where none fails.
 */
type Isolation = 'each' | 'pass';

/** A reaction failed in a pass without savepoints of its own: the pass is undone and runs again, `each`. */
class FailedInPass extends Error {
  constructor(readonly reason: unknown) {
    super('a reaction failed in a pass without savepoints of its own');
    this.name = 'FailedInPass';
  }
}

/** What a runner that owns some partitions does with an event of its subscription. */
export type Verdict = 'skip' | 'fold' | 'react';

/** How many catch-up events one unit handles at most, so a long catch-up never holds the write lock for long. */
const CATCH_UP_PER_UNIT = 2_000;

/**
 * The thin runner of the reactions decider. It reads the log in order from its checkpoint, loads
 * the state an event concerns, asks the decider what to do, folds the event in, and applies the
 * reactions; it holds no business rule. Inline (SQLite) it runs inside the unit that appended the
 * events, so an entity event, the instances it starts and the reactor's state commit together;
 * with EventStoreDB a subscription feeds it batches instead. Same decider, two ways to schedule it.
 */
export class Reactor {
  private definitions: DefinitionsState;
  private definitionsRevision: number;
  /** Log events this reactor decided on (not only folded): what /metrics shows as lifeline_reactor_events_total. */
  decided = 0;

  constructor(
    readonly state: ReactorState,
    private readonly effects: ReactionEffects,
    private readonly isInfrastructureError: IsInfrastructureError,
    private readonly logger: Logger,
  ) {
    this.definitionsRevision = state.definitionsRevision();
    this.definitions = definitionsStateOf(state.definitions());
  }

  /** The definitions as the reactor knows them (the process grid's enabled flags come from the same events). */
  currentDefinitions(): DefinitionsState {
    return this.definitions;
  }

  /**
   * Inside a unit, before its work: reloads what another process (or a rolled-back unit) changed,
   * and reacts to events appended by others since the checkpoint. Returns true once caught up.
   */
  async catchUp(tx: StoreTx): Promise<boolean> {
    this.refreshDefinitions();
    const head = await tx.headPosition();
    // Caught up: the checkpoint stays as it is (no write of the same value in every unit).
    if (this.state.checkpoint() >= head) return true;
    return this.inOnePass(tx, (isolation) => this.catchUpTo(tx, head, isolation));
  }

  private async catchUpTo(tx: StoreTx, head: number, isolation: Isolation): Promise<boolean> {
    let checkpoint = this.state.checkpoint();
    let budget = CATCH_UP_PER_UNIT;
    while (checkpoint < head && budget > 0) {
      const events = await tx.readAll(checkpoint, Math.min(budget, 500));
      if (events.length === 0) break;
      for (const event of events) {
        await this.handle(tx, event, isolation);
        checkpoint = event.position;
      }
      budget -= events.length;
    }
    this.state.setCheckpoint(checkpoint);
    return checkpoint >= head;
  }

  /**
   * Inside a unit, after its work: reacts to what the unit appended, in order, including what the
   * reactions themselves append, until nothing new is left. Events are the objects appended: nothing
   * is read back.
   */
  async drain(tx: StoreTx): Promise<void> {
    await this.inOnePass(tx, (isolation) => this.drainWith(tx, isolation));
  }

  private async drainWith(tx: StoreTx, isolation: Isolation): Promise<void> {
    const from = this.state.checkpoint();
    let checkpoint = from;
    const appended = tx.appended;
    for (let i = 0; i < appended.length; i++) {
      const event = appended[i]!;
      if (event.position <= checkpoint) continue;
      // Not caught up with others' events yet: these wait for the catch-up, in order.
      if (event.position !== checkpoint + 1) break;
      await this.handle(tx, event, isolation);
      checkpoint = event.position;
    }
    // A unit that appended nothing (a read, a caught-up poll) writes nothing.
    if (checkpoint !== from) this.state.setCheckpoint(checkpoint);
  }

  /** A batch delivered by a subscription (EventStoreDB): reactions are sent, their events come back later. */
  async handleBatch(tx: StoreTx, events: readonly StoredEvent[]): Promise<void> {
    this.refreshDefinitions();
    for (const event of events) {
      if (event.position <= this.state.checkpoint()) continue;
      await this.handle(tx, event);
      this.state.setCheckpoint(event.position);
    }
  }

  /**
   * A batch of the partitions this process owns (ownership by partition): each event is skipped (its
   * partition's records are folded past it already), folded without reacting (an event of no record,
   * whose reactions another process makes), or decided on and reacted to. The caller moves the checkpoints.
   */
  async handleOwned(
    tx: StoreTx,
    events: readonly StoredEvent[],
    verdict: (event: StoredEvent) => Verdict,
  ): Promise<void> {
    this.refreshDefinitions();
    for (const event of events) {
      const what = verdict(event);
      if (what === 'skip') continue;
      await this.handle(tx, event, 'each', what === 'react');
    }
  }

  /** Folds a partition's events into the state without reacting: its records as another process left them. */
  async foldOnly(events: readonly StoredEvent[]): Promise<void> {
    for (const event of events) await this.handle(undefined, event, 'each', false);
  }

  /** Fires the timers due at `now`: each one's reactions, decided on its record's state. */
  async fireDueTimers(tx: StoreTx, now: string, limit = 200): Promise<number> {
    let fired = 0;
    for (const { timerId, recordKey } of this.state.dueTimers(now, limit)) {
      const record = this.state.record(recordKey);
      const timer = record?.timers[timerId];
      if (!record || !timer) {
        this.state.dropTimer(timerId); // the state no longer has it: the index was behind
        continue;
      }
      // Until the event that ends it is folded in: if that never comes, it fires again in a minute.
      this.state.deferTimer(timerId, new Date(Date.parse(now) + 60_000).toISOString());
      for (const reaction of decideTimer(timer, { definitions: this.definitions, record })) {
        await this.apply(tx, reaction);
      }
      fired++;
    }
    return fired;
  }

  /**
   * Fires the schedule ticks due at `now`: each is recorded as ScheduleTicked on its own record, and
   * the start follows from that event (inline: in this same unit). The tick is folded at once, so a
   * timer tick before its event comes back (a subscription) does not decide it again.
   */
  async fireDueSchedules(tx: StoreTx, now: string): Promise<number> {
    this.refreshDefinitions();
    const reactions = decideScheduleTicks(this.definitions, now, context);
    for (const reaction of reactions) {
      await this.apply(tx, reaction);
      if (reaction.type !== 'RecordScheduleTick') continue;
      const { origin } = reaction;
      this.foldDefinitions({
        // The id the effect appended it under (reaction-effects `onRecord`).
        id: eventIdsFor(origin.commandId, 1, 0, origin.idTime)[0]!,
        streamId: reaction.streamId,
        at: now,
        correlationId: origin.correlationId,
        event: { type: 'ScheduleTicked', data: reaction.data },
      });
    }
    return reactions.length;
  }

  /**
   * Whether a timer (and, with `schedules`, a schedule tick) is due at `now`: a tick of a runner fed by a
   * subscription opens no unit of work, and so takes no lock of the store, when nothing is due.
   */
  hasDue(now: string, schedules: boolean): boolean {
    const timer = this.state.nextDue();
    if (timer !== undefined && timer <= now) return true;
    if (!schedules) return false;
    this.refreshDefinitions();
    const tick = this.nextScheduleTick();
    return tick !== undefined && tick <= now;
  }

  /** The next schedule tick planned of an enabled definition (for tests and metrics). */
  nextScheduleTick(): string | undefined {
    let next: string | undefined;
    for (const entry of Object.values(this.definitions.byKey)) {
      const tick = entry.enabled ? entry.schedule?.nextTick : undefined;
      if (tick !== undefined && (next === undefined || tick < next)) next = tick;
    }
    return next;
  }

  private foldDefinitions(logged: LoggedEvent): void {
    const definitions = evolveDefinitionsWith(this.definitions, logged);
    if (definitions === this.definitions) return;
    this.definitions = definitions;
    const key = logged.event.type === 'ScheduleTicked' ? logged.event.data.definitionKey : undefined;
    const keyOf = key ?? (logged.event.data as { key?: string }).key;
    const entry = keyOf !== undefined ? definitions.byKey[keyOf] : undefined;
    if (entry) this.definitionsRevision = this.state.saveDefinition(entry);
  }

  private refreshDefinitions(): void {
    const revision = this.state.definitionsRevision();
    if (revision === this.definitionsRevision) return;
    this.definitions = definitionsStateOf(this.state.definitions());
    this.definitionsRevision = revision;
  }

  /**
   * Folds the log up to `upTo` into the state without reacting: for a store whose reactions an earlier
   * version already made (its process manager's checkpoint), so nothing is sent twice.
   */
  async foldUpTo(tx: StoreTx, upTo: number): Promise<number> {
    let checkpoint = this.state.checkpoint();
    while (checkpoint < upTo) {
      const events = await tx.readAll(checkpoint, Math.min(5_000, upTo - checkpoint));
      if (events.length === 0) break;
      for (const event of events) {
        if (event.position > upTo) break;
        await this.handle(tx, event, 'each', false);
        checkpoint = event.position;
      }
    }
    this.state.setCheckpoint(checkpoint);
    return checkpoint;
  }

  /**
   * Runs a pass of reactions (a drain, a catch-up) in one savepoint instead of one per reaction,
   * which SQLite makes costly (each savepoint journals the pages it touches again). If a reaction
   * fails, the whole pass is undone and runs again with a savepoint per reaction, exactly as it
   * always did, so the failure is recorded and nothing it half-wrote stays.
   */
  private async inOnePass<T>(tx: StoreTx, pass: (isolation: Isolation) => Promise<T>): Promise<T> {
    const { definitions, definitionsRevision } = this;
    try {
      return await tx.attempt(() => pass('pass'));
    } catch (error) {
      // What the undone pass changed in memory goes back with what it wrote.
      this.definitions = definitions;
      this.definitionsRevision = definitionsRevision;
      if (!(error instanceof FailedInPass)) throw error;
      return pass('each');
    }
  }

  private async handle(
    tx: StoreTx | undefined,
    stored: StoredEvent,
    isolation: Isolation = 'each',
    react = true,
  ): Promise<void> {
    const event = decodeEvent(stored);
    if (react) this.decided++;
    if (!concernsReactions(event)) return;
    const logged: LoggedEvent = {
      id: stored.id,
      streamId: stored.streamId,
      at: stored.metadata.at,
      correlationId: stored.metadata.correlationId,
      ...(stored.metadata.traceparent !== undefined ? { traceparent: stored.metadata.traceparent } : {}),
      event,
    };
    if (
      event.type === 'DefinitionPublished' ||
      event.type === 'DefinitionActivated' ||
      event.type === 'DefinitionDeactivated' ||
      event.type === 'ExecutionOrderChanged'
    ) {
      this.foldDefinitions(logged);
      return;
    }
    // A tick moves its definition's schedule on, and starts its instance below.
    if (event.type === 'ScheduleTicked') this.foldDefinitions(logged);
    const recordKey = recordKeyOf(logged) ?? this.instanceRecord(stored.streamId);
    if (recordKey === undefined) return;
    // The record as it was before this event (its data read from the log up to the event before, if it is read).
    const record = this.state.record(recordKey, stored.position - 1, readsRecordData(event));
    const reactions = react ? decideReactions(logged, { definitions: this.definitions, record }, context) : [];
    const next = evolveRecord(record, logged);
    if (next !== undefined && next !== record) this.saveRecord(recordKey, record, next);
    if (reactions.length === 0) return;
    if (tx === undefined) throw new Error('Reactions need a unit of work');
    for (const reaction of reactions) await this.apply(tx, reaction, isolation);
  }

  private instanceRecord(streamId: string): string | undefined {
    return streamId.startsWith('instance-')
      ? this.state.recordOfInstance(streamId.slice('instance-'.length))
      : undefined;
  }

  private saveRecord(key: string, before: RecordState | undefined, after: RecordState): void {
    this.state.saveRecord(key, before, after);
  }

  /** One reaction in its own savepoint: a failure is recorded and the others go on (unless the store failed). */
  private async apply(tx: StoreTx, reaction: Reaction, isolation: Isolation = 'each'): Promise<void> {
    if (isolation === 'pass') {
      try {
        await this.effects.apply(tx, reaction);
        return;
      } catch (error) {
        if (this.isInfrastructureError(error)) throw error;
        throw new FailedInPass(error);
      }
    }
    try {
      await tx.attempt(() => this.effects.apply(tx, reaction));
    } catch (error) {
      if (this.isInfrastructureError(error)) throw error;
      this.logger.warn(
        {
          err: error,
          reaction: reaction.type,
          commandId: reaction.origin.commandId,
          correlationId: reaction.origin.correlationId,
        },
        'reaction failed; recorded as a failure',
      );
      await this.effects.failed(tx, reaction, error);
    }
  }
}
