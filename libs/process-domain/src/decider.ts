/**
 * One shape for every stream's behaviour (definitions, records, instances): the state a stream's
 * events fold into, and the events a command decides. Pure: time, ids and outside facts arrive in
 * the context. The engine's command pipeline runs any decider the same way: load → decide → append
 * with the expected revision → retry on a conflict.
 */
export interface Decider<State, Command, Event, Context> {
  initialState(): State;
  evolve(state: State, event: Event): State;
  /** The events to append; [] when the command changes nothing (a repeat after a crash, say). */
  decide(state: State, command: Command, context: Context): Event[];
  /**
   * `decide`, with the state its events lead to, for a decider that folds them while deciding: the
   * state must equal `foldEvents(decider, events, state)`, which callers then need not compute again.
   */
  decideState?(state: State, command: Command, context: Context): Decision<State, Event>;
}

/** The events a command decided and the state they lead to. */
export interface Decision<State, Event> {
  events: Event[];
  state: State;
}

/** Folds events into a decider's state. */
export const foldEvents = <State, Event>(
  decider: Pick<Decider<State, never, Event, never>, 'evolve'>,
  events: readonly Event[],
  from: State,
): State => {
  let state = from;
  for (const event of events) state = decider.evolve(state, event);
  return state;
};
