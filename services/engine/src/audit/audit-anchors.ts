import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { OutboundPublisher } from '@lifeline/entity-events';
import { currentChainHead, DerivedLogChain, hasStoredLogChain, type EventStore } from '@lifeline/event-store';
import {
  anchorLine,
  appendAnchorToFile,
  AuditKeyInvalid,
  checkAnchorsFile,
  loadAuditKey,
  signAnchor,
  type Anchor,
  type AuditKey,
} from '@lifeline/audit';
import type { Clock } from '../shared/clock';
import type { LifelineConfig } from '../shared/config';

/** No sink took the anchor (each sink's error is logged). */
export class AnchorNotWritten extends Error {
  readonly code = 'AUDIT.ANCHOR_NOT_WRITTEN';
  constructor(readonly position: number) {
    super(`The anchor of position ${position} was not written to any sink`);
  }
}

/** Where a written anchor goes: the file outside the data dir, the Kafka topic. */
interface AnchorSink {
  name: string;
  write(anchor: Anchor): Promise<void>;
}

/**
 * Signs the head of the global chain every `anchorIntervalMs` (by the engine's clock) when it moved,
 * on demand, and once more on a clean stop (docs/decisions/0005-tamper-evidence.md).
 */
export class AuditAnchors {
  private readonly sinks: AnchorSink[] = [];
  private last: Anchor | undefined;
  private lastAt: number;
  private ticker: NodeJS.Timeout | undefined;
  /** One anchor at a time: ticks, on-demand anchors and the final one never interleave. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Stores without a stored chain (EventStoreDB): the chain derived by reading the log, kept between anchors. */
  private readonly derived: DerivedLogChain | undefined;

  private constructor(
    private readonly store: EventStore,
    private readonly key: AuditKey,
    private readonly file: string | undefined,
    private readonly intervalMs: number,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.lastAt = clock.now().getTime();
    this.derived = hasStoredLogChain(store) ? undefined : new DerivedLogChain();
    if (file !== undefined) {
      this.sinks.push({ name: 'file', write: async (anchor) => appendAnchorToFile(file, anchor) });
    }
  }

  /**
   * Undefined without LIFELINE_AUDIT_KEY. Throws when the key or the anchors file is inside the
   * data dir, or the key cannot sign: the engine does not start with a misplaced key.
   */
  static create(config: LifelineConfig, store: EventStore, clock: Clock, logger: Logger): AuditAnchors | undefined {
    const { audit } = config;
    if (audit.key === undefined) {
      if (audit.anchorsFile !== undefined) {
        logger.warn('LIFELINE_AUDIT_ANCHORS_FILE is set but LIFELINE_AUDIT_KEY is not: no anchor is written');
      }
      return undefined;
    }
    const protectedDirs = [config.dataDir];
    if (config.eventStore.kind === 'sqlite') protectedDirs.push(dirname(config.eventStore.file));
    const key = loadAuditKey(audit.key, { forbiddenDirs: protectedDirs });
    if (key.privateKey === undefined) {
      throw new AuditKeyInvalid('LIFELINE_AUDIT_KEY must hold the private key: the engine signs the anchors');
    }
    const file = audit.anchorsFile === undefined ? undefined : checkAnchorsFile(audit.anchorsFile, protectedDirs);
    return new AuditAnchors(store, key, file, audit.anchorIntervalMs, clock, logger);
  }

  get keyId(): string {
    return this.key.keyId;
  }

  /** Starts the periodic anchors; with a publisher, anchors also go to `topic`. */
  start(kafka?: { publisher: OutboundPublisher; topic: string }): void {
    if (kafka !== undefined) {
      this.sinks.push({
        name: `kafka:${kafka.topic}`,
        write: (anchor) =>
          kafka.publisher.publish([
            {
              topic: kafka.topic,
              key: anchor.keyId,
              value: anchorLine(anchor),
              headers: { messageId: `anchor-${anchor.keyId}-${anchor.position}-${anchor.at}` },
            },
          ]),
      });
    }
    if (this.sinks.length === 0) {
      this.logger.warn(
        'LIFELINE_AUDIT_KEY is set but anchors go nowhere: set LIFELINE_AUDIT_ANCHORS_FILE or use the Kafka outbound',
      );
    }
    // Due-ness is read on the clock (a fake one in tests); the timer only looks often enough.
    this.ticker = setInterval(
      () => void this.tick().catch((err: unknown) => this.logger.error({ err }, 'audit anchor failed')),
      Math.min(this.intervalMs, 5_000),
    );
    this.ticker.unref();
  }

  /** Anchors the head when an interval has passed since the last anchor and the head moved. */
  tick(): Promise<Anchor | undefined> {
    return this.serial(async () => {
      if (this.clock.now().getTime() - this.lastAt < this.intervalMs) return undefined;
      return this.write(false);
    });
  }

  /** Anchors the head now, moved or not (an empty log has nothing to anchor). */
  anchorNow(): Promise<Anchor | undefined> {
    return this.serial(() => this.write(true));
  }

  /** Stops the timer and anchors the head once more if it moved since the last anchor. */
  async stop(): Promise<void> {
    clearInterval(this.ticker);
    this.ticker = undefined;
    await this.serial(() => this.write(false)).catch((err: unknown) =>
      this.logger.error({ err }, 'final audit anchor failed'),
    );
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async write(evenIfUnmoved: boolean): Promise<Anchor | undefined> {
    const head = await currentChainHead(this.store, this.last, this.derived);
    this.lastAt = this.clock.now().getTime();
    if (head.position === 0) return undefined;
    if (!evenIfUnmoved && this.last?.position === head.position && this.last.globalHash === head.globalHash) {
      return undefined;
    }
    const anchor = signAnchor(head, this.clock.nowIso(), this.key);
    let written = 0;
    for (const sink of this.sinks) {
      try {
        await sink.write(anchor);
        written++;
      } catch (err) {
        this.logger.error({ err, sink: sink.name, position: anchor.position }, 'audit anchor not written');
      }
    }
    if (written === 0 && this.sinks.length > 0) throw new AnchorNotWritten(anchor.position);
    this.last = anchor;
    this.logger.info(
      { position: anchor.position, eventCount: anchor.eventCount, keyId: anchor.keyId, sinks: written },
      'audit anchor written',
    );
    return anchor;
  }
}
