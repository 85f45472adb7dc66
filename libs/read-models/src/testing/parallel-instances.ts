import {
  decide,
  evolveAll,
  parseDefinition,
  SYSTEM,
  type InstanceCommand,
  type InstanceEvent,
  type InstanceState,
  type ProcessDefinition,
} from '../../../process-domain/src';
import type { ReadModelFixture } from './read-model-fixture';

/** Finance and legal review a purchase order at once (a parallel fork and its join). */
export const purchaseOrder = parseDefinition(
  JSON.stringify({
    key: 'purchase-order',
    name: 'Purchase order',
    relatedEntity: 'PurchaseOrder',
    executionOrder: 10,
    enabled: true,
    triggers: [{ on: 'created' }],
    start: 'reviews',
    activities: {
      reviews: { type: 'parallel', branches: ['finance', 'legal'] },
      finance: { type: 'human', title: 'Finance review', assignee: { role: 'finance' }, next: 'reviewed' },
      legal: { type: 'human', title: 'Legal review', assignee: { role: 'legal' }, next: 'reviewed' },
      reviewed: { type: 'join', next: 'approve' },
      approve: { type: 'automatic', set: { approved: 'true' }, next: 'done' },
      done: { type: 'end' },
    },
  }),
);

/** One branch only notifies and ends at its own end; the other waits for a review. */
export const notifyAndReview = parseDefinition(
  JSON.stringify({
    key: 'notify-and-review',
    name: 'Notify and review',
    relatedEntity: 'PurchaseOrder',
    executionOrder: 20,
    enabled: true,
    triggers: [{ on: 'created' }],
    start: 'both',
    activities: {
      both: { type: 'parallel', branches: ['notify', 'review'] },
      notify: { type: 'automatic', set: { notified: 'true' }, next: 'notified' },
      notified: { type: 'end' },
      review: { type: 'human', title: 'Review', assignee: { role: 'finance' }, next: 'done' },
      done: { type: 'end' },
    },
  }),
);

/** An instance driven by the domain's own decider, its events appended to the fixture's log. */
export class Driven {
  private events: InstanceEvent[] = [];
  constructor(
    private readonly rm: ReadModelFixture,
    readonly instanceId: string,
    private readonly definition: ProcessDefinition,
  ) {}

  state(): InstanceState {
    return evolveAll(this.events);
  }

  run(command: InstanceCommand): this {
    const events = decide(this.state(), command, {
      now: this.rm.log.now(),
      definition: this.definition,
      definitionVersion: 1,
      entityData: { number: 'PO-1', amount: 5000 },
      actor: SYSTEM,
    });
    for (const event of events) this.rm.log.instance(this.instanceId, event);
    this.events.push(...events);
    this.rm.log.advance(60_000);
    return this;
  }

  start(): this {
    return this.run({
      type: 'StartInstance',
      instanceId: this.instanceId,
      definitionKey: this.definition.key,
      definitionVersion: 1,
      entity: { type: 'PurchaseOrder', id: 'PO-1' },
      variables: {},
      cause: { kind: 'api' },
    });
  }

  complete(activityId: string): this {
    return this.run({ type: 'CompleteTask', taskId: `${this.instanceId}.${activityId}.1` });
  }

  /** Where the domain's own state says each visible line rests: what the projection must show. */
  expectedPositions(): { token: string; activityId: string; activityType: string }[] {
    const state = this.state();
    if (state.status === 'none') return [];
    return Object.values(state.tokens)
      .filter((t) => t.forked === undefined)
      .map((t) => ({ token: t.token, activityId: t.activityId, activityType: t.activityType }));
  }
}
