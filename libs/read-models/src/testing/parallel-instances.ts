import {
  decide,
  evolveAll,
  parseDefinition,
  SYSTEM,
  type InstanceCommand,
  type InstanceEvent,
  type InstanceState,
  type ProcessDefinition,
} from '@lifeline/process-domain';
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

/** A conditional start: every update of the order with a high priority starts a line of its own. */
export const conditionalOrder = parseDefinition(
  JSON.stringify({
    key: 'order',
    name: 'Order',
    relatedEntity: 'PurchaseOrder',
    executionOrder: 30,
    enabled: true,
    triggers: [{ on: 'created' }],
    conditionalStarts: [{ when: 'entity.priority = "high"', next: 'alert' }],
    start: 'review',
    activities: {
      review: { type: 'human', title: 'Review', assignee: { role: 'finance' }, next: 'done' },
      alert: { type: 'human', title: 'Urgent order', assignee: { role: 'legal' }, next: 'alertDone' },
      alertDone: { type: 'end' },
      done: { type: 'end' },
    },
  }),
);

/** Parallel review and wait; a deleted record leaves both lines and goes on at `archive`. */
export const archivedWhenDeleted = parseDefinition(
  JSON.stringify({
    key: 'complaint',
    name: 'Complaint',
    relatedEntity: 'PurchaseOrder',
    executionOrder: 40,
    enabled: true,
    triggers: [{ on: 'created' }],
    onRecordDeleted: { next: 'archive' },
    start: 'split',
    activities: {
      split: { type: 'parallel', branches: ['review', 'answer'] },
      review: { type: 'human', title: 'Review', assignee: { role: 'finance' }, next: 'both' },
      answer: { type: 'wait', until: 'entity.answered = true', next: 'both' },
      both: { type: 'join', next: 'done' },
      done: { type: 'end' },
      archive: { type: 'human', title: 'Archive', assignee: { role: 'finance' }, next: 'gone' },
      gone: { type: 'end' },
    },
  }),
);

/** An instance driven by the domain's own decider, its events appended to the fixture's log. */
export class Driven {
  private events: InstanceEvent[] = [];
  /** The record as the next command sees it. */
  entityData: Record<string, unknown> = { number: 'PO-1', amount: 5000 };
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
      entityData: this.entityData,
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

  /** An entity event of the record reached the instance (`deleted`: it deleted the record). */
  recordChanged(entityEventId: string, deleted = false): this {
    return this.run({ type: 'CheckWait', entityEventId, ...(deleted ? { recordDeleted: true } : {}) });
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
