import type { StoredEvent } from '@lifeline/event-store';
import {
  invoiceApproval as readmeInvoiceApproval,
  type HumanActivity,
  type LifelineEvent,
  type ProcessDefinition,
} from '@lifeline/process-domain';
import type { GlobalLog } from '../rebuild';

/**
 * Stored events built by hand for projection tests, numbered like a store numbers them
 * (global position, per-stream revision). It also reads back as a global log for rebuilds.
 */
export class EventLog implements GlobalLog {
  readonly events: StoredEvent[] = [];
  private readonly revisions = new Map<string, number>();
  private clock: number;

  constructor(start = '2026-11-21T10:00:00.000Z') {
    this.clock = Date.parse(start);
  }

  /** The instant the next event is recorded at. */
  now(): string {
    return new Date(this.clock).toISOString();
  }

  advance(ms: number): this {
    this.clock += ms;
    return this;
  }

  append(streamId: string, event: LifelineEvent, actor = 'system'): StoredEvent {
    const revision = (this.revisions.get(streamId) ?? -1) + 1;
    this.revisions.set(streamId, revision);
    const position = this.events.length + 1;
    const id = `evt-${position}`;
    const stored: StoredEvent = {
      id,
      type: event.type,
      data: event.data,
      metadata: {
        messageId: id,
        correlationId: `corr-${streamId}`,
        causationId: `cause-${position}`,
        actor,
        at: this.now(),
      },
      streamId,
      revision,
      position,
    };
    this.events.push(stored);
    return stored;
  }

  instance(instanceId: string, event: LifelineEvent, actor = 'system'): StoredEvent {
    return this.append(`instance-${instanceId}`, event, actor);
  }

  async readAll(fromPosition: number, maxCount: number): Promise<StoredEvent[]> {
    return this.events.slice(fromPosition, fromPosition + maxCount);
  }

  async headPosition(): Promise<number> {
    return this.events.length;
  }
}

/** The README's invoice approval cut to its review task (then done), started by created invoices only. */
export function invoiceApproval(overrides: Partial<ProcessDefinition> = {}): ProcessDefinition {
  const readme = readmeInvoiceApproval();
  const review = readme.activities.review as HumanActivity;
  return {
    ...readme,
    triggers: readme.triggers.slice(0, 1),
    activities: { review: { ...review, next: 'done' }, done: { type: 'end' } },
    ...overrides,
  };
}

const ROLES = ['accounting', 'purchasing', 'legal', 'sales'];
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];

/**
 * A deterministic log shaped like production: a few definitions, then records created and
 * updated, each starting an instance whose tasks are claimed, released, reassigned, postponed,
 * completed, or whose instance is terminated. Stops at `count` events.
 */
export function syntheticLog(count: number, seed = 1): EventLog {
  const log = new EventLog();
  let state = seed >>> 0 || 1;
  const random = (n: number): number => {
    // xorshift32: deterministic, so two logs with the same seed are identical.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
  const definitions = ['invoice-approval', 'purchase-order', 'contract-review'].map((key, i) =>
    invoiceApproval({ key, name: `Process ${key}`, executionOrder: 10 * (i + 1) }),
  );
  for (const definition of definitions) {
    log.append(
      `definition-${definition.key}`,
      {
        type: 'DefinitionPublished',
        data: { key: definition.key, version: 1, definition },
      },
      'admin',
    );
  }
  let n = 0;
  while (log.events.length < count) {
    n += 1;
    log.advance(1000);
    const definition = definitions[random(definitions.length)]!;
    const entityId = `INV-${n}`;
    const instanceId = `i-${n}`;
    const taskId = `t-${n}`;
    const steps: Array<() => void> = [];
    steps.push(() =>
      log.append(`entity-Invoice-${entityId}`, {
        type: 'EntityEventRecorded',
        data: {
          envelope: {
            id: `e-${n}`,
            entityType: 'Invoice',
            entityId,
            kind: 'created',
            occurredAt: log.now(),
            data: { number: entityId, amount: 100 + random(20000), ownerId: USERS[random(USERS.length)] },
          },
          source: { kind: 'http' },
        },
      }),
    );
    steps.push(() =>
      log.instance(instanceId, {
        type: 'InstanceStarted',
        data: {
          instanceId,
          definitionKey: definition.key,
          definitionVersion: 1,
          definitionName: definition.name,
          entity: { type: 'Invoice', id: entityId },
          variables: { amount: random(1000) },
          cause: { kind: 'trigger', entityEventId: `e-${n}`, triggerIndex: 0, delayed: false },
        },
      }),
    );
    steps.push(() =>
      log.instance(instanceId, {
        type: 'ActivityEntered',
        data: { activityId: 'review', activityType: 'human', visit: 1 },
      }),
    );
    const preassigned = random(4) === 0;
    steps.push(() =>
      log.instance(instanceId, {
        type: 'TaskCreated',
        data: {
          taskId,
          activityId: 'review',
          title: `Review ${entityId}`,
          instructions: 'Check it.',
          assignee: preassigned ? { user: USERS[random(USERS.length)]! } : { role: ROLES[random(ROLES.length)]! },
          startAt: log.now(),
          dueAt: new Date(Date.parse(log.now()) + 2 * 86_400_000).toISOString(),
          results: ['Approve', 'Reject'],
          form: [{ name: 'comment', type: 'text', required: false }],
          rule: { role: 'accounting' },
        },
      }),
    );
    const user = USERS[random(USERS.length)]!;
    const fate = random(6);
    if (fate >= 1) steps.push(() => log.instance(instanceId, { type: 'TaskClaimed', data: { taskId, user } }, user));
    if (fate === 2) steps.push(() => log.instance(instanceId, { type: 'TaskReleased', data: { taskId, user } }, user));
    if (fate === 3)
      steps.push(() =>
        log.instance(
          instanceId,
          { type: 'TaskReassigned', data: { taskId, from: { user }, to: { role: 'legal' } } },
          user,
        ),
      );
    if (fate === 4)
      steps.push(() =>
        log.instance(
          instanceId,
          {
            type: 'TaskPostponed',
            data: { taskId, until: new Date(Date.parse(log.now()) + 86_400_000 * 30).toISOString() },
          },
          user,
        ),
      );
    if (fate === 5) {
      steps.push(() =>
        log.instance(
          instanceId,
          {
            type: 'TaskCompleted',
            data: { taskId, activityId: 'review', user, result: 'Approve', fields: { comment: 'ok' } },
          },
          user,
        ),
      );
      steps.push(() =>
        log.instance(instanceId, {
          type: 'DecisionTaken',
          data: { activityId: 'route', branch: 0, next: 'done', seen: { 'review.result': 'Approve' } },
        }),
      );
      steps.push(() => log.instance(instanceId, { type: 'InstanceCompleted', data: { endActivityId: 'done' } }));
    }
    if (fate === 0) {
      steps.push(() =>
        log.instance(instanceId, {
          type: 'IncidentRaised',
          data: { incidentId: `inc-${n}`, activityId: 'review', code: 'FEEL.ERROR', message: 'no such field' },
        }),
      );
      if (random(2) === 0)
        steps.push(() =>
          log.instance(instanceId, { type: 'InstanceTerminated', data: { by: 'admin', reason: 'duplicate' } }, 'admin'),
        );
    }
    for (const step of steps) {
      if (log.events.length >= count) break;
      step();
    }
  }
  return log;
}
