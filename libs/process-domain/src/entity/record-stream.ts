import type { Decider } from '../decider';
import type { DelayedStartScheduled, DelayedStartSkipped, EntityEvent, ScheduleTicked } from '../events';
import type { EntityEventEnvelope, EntityEventSource } from './envelope';

/**
 * The `entity-<Type>-<id>` stream: what the application said happened to the record, and the
 * delayed starts its events scheduled (or, for a schedule's own record, the tick that started it). Its events are facts appended after whatever is there
 * (expected revision `any`): no decision depends on an earlier one, so there is no state to load.
 */
export type RecordCommand =
  | { type: 'RecordEntityEvent'; envelope: EntityEventEnvelope; source: EntityEventSource }
  | { type: 'ScheduleDelayedStart'; data: DelayedStartScheduled['data'] }
  | { type: 'SkipDelayedStart'; data: DelayedStartSkipped['data'] }
  | { type: 'RecordScheduleTick'; data: ScheduleTicked['data'] };

export const recordDecider: Decider<null, RecordCommand, EntityEvent, void> = {
  initialState: () => null,
  evolve: (state) => state,
  decide(_state, command) {
    switch (command.type) {
      case 'RecordEntityEvent':
        return [{ type: 'EntityEventRecorded', data: { envelope: command.envelope, source: command.source } }];
      case 'ScheduleDelayedStart':
        return [{ type: 'DelayedStartScheduled', data: command.data }];
      case 'SkipDelayedStart':
        return [{ type: 'DelayedStartSkipped', data: command.data }];
      case 'RecordScheduleTick':
        return [{ type: 'ScheduleTicked', data: command.data }];
      default: {
        const unknown: never = command;
        throw new Error(`Unknown record command ${JSON.stringify(unknown)}`);
      }
    }
  },
};
