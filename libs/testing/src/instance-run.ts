import {
  decideState,
  SYSTEM,
  type Actor,
  type DecideContext,
  type InstanceCommand,
  type InstanceEvent,
  type InstanceState,
  type LiveInstance,
  type ProcessDefinition,
} from '@lifeline/process-domain';
import { T0 } from './fixtures';

/**
 * One instance driven command by command through the decider, for given/when/then specs of flows with
 * several steps: each command decides on the state the previous ones led to.
 */
export class InstanceRun {
  state: InstanceState = { status: 'none' };
  readonly log: InstanceEvent[] = [];
  constructor(
    readonly definition: ProcessDefinition,
    public entityData: Record<string, unknown> = {},
  ) {}
  ctx(actor: Actor, now = T0): DecideContext {
    return { now, definition: this.definition, definitionVersion: 1, entityData: this.entityData, actor };
  }
  /** Decides and applies a command; returns the events it appended. */
  when(command: InstanceCommand, actor: Actor = SYSTEM, now = T0): InstanceEvent[] {
    const decision = decideState(this.state, command, this.ctx(actor, now));
    this.state = decision.state;
    this.log.push(...decision.events);
    return decision.events;
  }
  start(): InstanceEvent[] {
    return this.when({
      type: 'StartInstance',
      instanceId: 'i1',
      definitionKey: this.definition.key,
      definitionVersion: 1,
      entity: { type: this.definition.relatedEntity, id: 'R-1' },
      variables: {},
      cause: { kind: 'api' },
    });
  }
  live(): LiveInstance {
    if (this.state.status === 'none') throw new Error('not started');
    return this.state;
  }
  /** Where the visible lines rest: `activityId@token`, sorted. */
  positions(): string[] {
    return Object.values(this.live().tokens)
      .filter((t) => t.forked === undefined)
      .map((t) => `${t.activityId}@${t.token}`)
      .sort();
  }
  openTasks(): string[] {
    return Object.values(this.live().tasks)
      .filter((t) => t.status === 'open')
      .map((t) => t.taskId)
      .sort();
  }
  complete(taskId: string, actor: Actor, result?: string): InstanceEvent[] {
    return this.when({ type: 'CompleteTask', taskId, ...(result !== undefined ? { result } : {}) }, actor);
  }
}

/** `Type(activity@token)` per event: the shape of a step, readable in a failure. */
export const eventShape = (events: InstanceEvent[]): string[] =>
  events.map((e) => {
    const d = e.data as { activityId?: string; token?: string };
    return `${e.type}${d.activityId !== undefined ? `(${d.activityId}${d.token !== undefined ? `@${d.token}` : ''})` : ''}`;
  });
