import {
  decideReactions,
  evolveDefinitionsWith,
  evolveRecord,
  recordKeyOf,
  type LoggedEvent,
  type Reaction,
  type ReactionContext,
  type ReactionState,
} from './reactions';
import { initialDefinitionsState, instancesOf, type DefinitionsState, type RecordState } from './state';

/**
 * The whole reactions state in memory: the definitions, every record's state, and which record
 * each instance with a wait or a timer belongs to (instance events other than the start do not
 * name their record). `what-if` and the specs use it as is; the engine's runner keeps the same
 * three things in tables.
 */
export class ReactionBook {
  definitions: DefinitionsState = initialDefinitionsState();
  readonly records = new Map<string, RecordState>();
  readonly instanceRecords = new Map<string, string>();

  /** The record an event concerns: named by it, or found through the instance it belongs to. */
  recordKeyFor(logged: LoggedEvent): string | undefined {
    const named = recordKeyOf(logged);
    if (named !== undefined) return named;
    if (!logged.streamId.startsWith('instance-')) return undefined;
    return this.instanceRecords.get(logged.streamId.slice('instance-'.length));
  }

  stateFor(logged: LoggedEvent): ReactionState {
    const key = this.recordKeyFor(logged);
    return { definitions: this.definitions, record: key === undefined ? undefined : this.records.get(key) };
  }

  /** Decides on the state before the event, then folds it in: the order the runner keeps. */
  react(logged: LoggedEvent, context: ReactionContext): Reaction[] {
    const reactions = decideReactions(logged, this.stateFor(logged), context);
    this.fold(logged);
    return reactions;
  }

  fold(logged: LoggedEvent): void {
    this.definitions = evolveDefinitionsWith(this.definitions, logged);
    const key = this.recordKeyFor(logged);
    if (key === undefined) return;
    const before = this.records.get(key);
    const after = evolveRecord(before, logged);
    if (after === before || after === undefined) return;
    this.records.set(key, after);
    const had = instancesOf(before);
    const has = instancesOf(after);
    for (const id of had) if (!has.has(id)) this.instanceRecords.delete(id);
    for (const id of has) this.instanceRecords.set(id, key);
  }
}
