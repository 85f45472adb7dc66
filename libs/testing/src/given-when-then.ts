// Jest's `expect` is a global of the runner these helpers serve; named here so a build that takes this library in
// (a benchmark importing @lifeline/testing for its cluster launcher) type-checks without the jest types everywhere.
/// <reference types="jest" />
import {
  decide,
  evolveAll,
  type DecideContext,
  type InstanceCommand,
  type InstanceEvent,
  type InstanceState,
} from '@lifeline/process-domain';

type ErrorClass = abstract new (...args: never[]) => Error;

/** given(events).when(command, context).then(events) — the decider's specs read like the domain. */
export function given(...history: InstanceEvent[]) {
  const state: InstanceState = evolveAll(history);
  return {
    state,
    when(command: InstanceCommand, context: DecideContext) {
      const run = () => decide(state, command, context);
      return {
        /** The exact events decided, in order. */
        then(expected: InstanceEvent[]): InstanceEvent[] {
          const events = run();
          expect(events).toEqual(expected);
          return events;
        },
        /** The decided events, to assert parts of them. */
        events(): InstanceEvent[] {
          return run();
        },
        /** Types of the decided events, in order. */
        thenTypes(types: InstanceEvent['type'][]): InstanceEvent[] {
          const events = run();
          expect(events.map((e) => e.type)).toEqual(types);
          return events;
        },
        thenThrows(errorClass: ErrorClass, code?: string): void {
          let thrown: unknown;
          try {
            run();
          } catch (error) {
            thrown = error;
          }
          expect(thrown).toBeInstanceOf(errorClass);
          if (code) expect((thrown as { code?: string }).code).toBe(code);
        },
        /** State after applying the decided events. */
        thenState(): InstanceState {
          return evolveAll(run(), state);
        },
      };
    },
  };
}
