import type { EventStore, StoredEvent, Subscription } from '@lifeline/event-store';
import { errorFields, silentLogger, type EntityEventsLogger } from '../logger';
import type { CheckpointStore } from './checkpoint-store';
import type { OutboundPublisher } from './outbound-publisher';
import { toOutboundMessages } from './to-outbound-messages';

export interface OutboxRelayOptions {
  /** Checkpoint name; two relays with different names publish independently. */
  name?: string;
  batchSize?: number;
  initialRetryMs?: number;
  maxRetryMs?: number;
  /** Injected so tests can drive the backoff without waiting. */
  sleep?: (ms: number) => Promise<void>;
}

class RelayStopped extends Error {
  constructor() {
    super('The outbox relay was stopped');
    this.name = 'RelayStopped';
  }
}

/**
 * Publishes instance events to the outbound port, in store order, at least once: a batch is
 * published (retried with backoff until it goes out, never skipped), then its checkpoint is
 * stored. After a crash or restart it resumes from the checkpoint, repeating at most one batch.
 */
export class OutboxRelay {
  private readonly name: string;
  private readonly batchSize: number;
  private readonly initialRetryMs: number;
  private readonly maxRetryMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private subscription: Subscription | undefined;
  private position = 0;
  private running = false;
  private wakeSleeper: (() => void) | undefined;
  private resubscribeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly publisher: OutboundPublisher,
    private readonly checkpoints: CheckpointStore,
    private readonly logger: EntityEventsLogger = silentLogger,
    options: OutboxRelayOptions = {},
  ) {
    this.name = options.name ?? 'outbox-relay';
    this.batchSize = options.batchSize ?? 200;
    this.initialRetryMs = options.initialRetryMs ?? 200;
    this.maxRetryMs = options.maxRetryMs ?? 10_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.position = await this.checkpoints.get(this.name);
    this.subscribe();
    this.logger.info({ relay: this.name, fromPosition: this.position }, 'outbox relay started');
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.resubscribeTimer) clearTimeout(this.resubscribeTimer);
    this.wakeSleeper?.();
    await this.subscription?.stop();
    this.subscription = undefined;
    this.logger.info({ relay: this.name, position: this.position }, 'outbox relay stopped');
  }

  /** The last global position whose messages are published and checkpointed. */
  checkpoint(): number {
    return this.position;
  }

  /** Resolves true once every instance event up to `position` is published (false on timeout). */
  caughtUpTo(position: number, timeoutMs = 5_000): Promise<boolean> {
    return this.subscription ? this.subscription.caughtUpTo(position, timeoutMs) : Promise.resolve(false);
  }

  private subscribe(): void {
    this.subscription = this.store.subscribe((events) => this.relay(events), {
      fromPosition: this.position,
      prefixes: ['instance-'],
      batchSize: this.batchSize,
      onError: (error) => this.onSubscriptionError(error),
    });
  }

  private async relay(events: StoredEvent[]): Promise<void> {
    const messages = events.flatMap(toOutboundMessages);
    await this.publishUntilDelivered(messages, events[0].position);
    const last = events[events.length - 1].position;
    await this.checkpoints.set(this.name, last);
    this.position = last;
  }

  private async publishUntilDelivered(
    messages: Parameters<OutboundPublisher['publish']>[0],
    fromPosition: number,
  ): Promise<void> {
    let delay = this.initialRetryMs;
    for (let attempt = 1; ; attempt += 1) {
      if (!this.running) throw new RelayStopped();
      try {
        await this.publisher.publish(messages);
        if (attempt > 1) this.logger.info({ relay: this.name, fromPosition, attempt }, 'outbound publish recovered');
        return;
      } catch (error) {
        this.logger.warn(
          { ...errorFields(error), relay: this.name, fromPosition, attempt, retryInMs: delay },
          'outbound publish failed; retrying',
        );
        await this.interruptibleSleep(delay);
        delay = Math.min(delay * 2, this.maxRetryMs);
      }
    }
  }

  private async interruptibleSleep(ms: number): Promise<void> {
    await Promise.race([this.sleep(ms), new Promise<void>((resolve) => (this.wakeSleeper = resolve))]);
    this.wakeSleeper = undefined;
  }

  private onSubscriptionError(error: unknown): void {
    if (!this.running || error instanceof RelayStopped) return;
    // The checkpoint store or the mapping failed: resume from the last stored checkpoint later.
    this.logger.error(
      { ...errorFields(error), relay: this.name, position: this.position },
      'outbox relay subscription failed; resubscribing',
    );
    this.resubscribeTimer = setTimeout(() => {
      this.resubscribeTimer = undefined;
      if (this.running) this.subscribe();
    }, this.maxRetryMs);
  }
}
