import {
  DerivedLogChain,
  checkStreamEvent,
  hasStoredLogChain,
  logLinkHash,
  type EventStore,
  type LogLink,
  type StoredEvent,
  type StreamTail,
} from '@lifeline/event-store';
import { anchorSignatureHolds, type Anchor, type AuditKey } from './anchors';

/**
 * What verify found, by kind (docs/decisions/0005-tamper-evidence.md):
 * - edited: an event's content does not match its own hash;
 * - deleted: events are missing (a stream's revisions skip, a global link names a previous position
 *   that is gone, a signed anchor's position or event count is gone);
 * - relinked: a link names a previous event that is not the one before it (an event was inserted, a link edited);
 * - gap: an event after the start of the global chain has no link;
 * - rehashed: an event's hash is not the one the global chain recorded (its stream's hashes were recomputed);
 * - truncated: the log ends before a signed anchor's position, or was cut back and appended to again;
 * - recomputed: the chain holds but its hash at a signed anchor's position is not the signed one;
 * - bad-signature: an anchor whose signature does not hold for the given key (or is not an anchor).
 */
export type FindingKind =
  'edited' | 'deleted' | 'relinked' | 'gap' | 'rehashed' | 'truncated' | 'recomputed' | 'bad-signature';

export interface Finding {
  kind: FindingKind;
  message: string;
  position?: number;
  streamId?: string;
  revision?: number;
  eventId?: string;
}

export interface HistoryVerification {
  ok: boolean;
  streams: number;
  events: number;
  /** The first `findingsLimit` findings, in the order met (log order, then anchors). */
  findings: Finding[];
  /** Every finding counted by kind, including those beyond the limit. */
  counts: Partial<Record<FindingKind, number>>;
  chain: ChainSummary;
  anchors: AnchorSummary;
}

export type ChainSummary =
  /** SQLite: links stored with the events; events before `firstChained` were written before the chain existed. */
  | { kind: 'stored'; headPosition: number; firstChained?: number; legacyEvents: number }
  /** EventStoreDB: no stored chain; computed from the log and compared with the anchors only. */
  | { kind: 'derived'; headPosition: number; globalHash: string }
  /** `--stream`: only that stream's own chain was checked. */
  | { kind: 'not-checked'; reason: string };

export type AnchorSummary =
  { checked: number; keyId: string; lastPosition?: number } | { checked: 0; notChecked: string };

export interface VerifyOptions {
  /** Only this stream's own chain; otherwise the whole log, its global chain and the anchors. */
  streamId?: string;
  /** Signed anchors to hold the log against; checked only with `key`. */
  anchors?: { anchors: { line: number; anchor: Anchor }[]; unreadable: { line: number; reason: string }[] };
  key?: AuditKey;
  /** Why anchors are not checked when they are not (no key, no file): said in the report. */
  anchorsNotChecked?: string;
  batchSize?: number;
  findingsLimit?: number;
  /** Positions done so far and the head position. */
  onProgress?: (done: number, total: number) => void;
}

type ReadableStore = Pick<EventStore, 'readAll' | 'readStream' | 'headPosition'>;

/** Checks the history for tampering: every stream's chain, the global chain, and the signed anchors. */
export async function verifyHistory(store: ReadableStore, options: VerifyOptions = {}): Promise<HistoryVerification> {
  const findings = new Findings(options.findingsLimit ?? 1_000);
  if (options.streamId !== undefined) return verifyOneStream(store, options.streamId, findings);

  const anchors = checkSignatures(options, findings);
  const walk = new LogWalk(findings, anchors.valid, hasStoredLogChain(store));
  const head = await store.headPosition();
  const batchSize = options.batchSize ?? 5_000;
  for (let cursor = 0; ;) {
    const page = await store.readAll(cursor, batchSize);
    if (page.length === 0) break;
    const last = page[page.length - 1]!.position;
    const links = hasStoredLogChain(store) ? await store.readLogLinks(cursor, last) : [];
    walk.page(page, links);
    cursor = last;
    options.onProgress?.(Math.min(cursor, head), head);
    if (page.length < batchSize) break;
  }
  walk.end();
  return {
    ok: findings.total === 0,
    streams: walk.streamCount,
    events: walk.eventCount,
    findings: findings.list,
    counts: findings.counts,
    chain: walk.summary(),
    anchors: anchors.summary,
  };
}

async function verifyOneStream(
  store: ReadableStore,
  streamId: string,
  findings: Findings,
): Promise<HistoryVerification> {
  const events = await store.readStream(streamId);
  let previous: StreamTail | undefined;
  for (const event of events) {
    const broken = checkStreamEvent(previous, event);
    if (broken !== undefined) {
      findings.add(streamFinding(broken.kind, event, broken.reason));
      break;
    }
    previous = { streamId, revision: event.revision, hash: event.metadata.hash as string };
  }
  if (events.length === 0) {
    findings.add({
      kind: 'deleted',
      streamId,
      message: `stream ${streamId} has no events (no such stream, or deleted)`,
    });
  }
  return {
    ok: findings.total === 0,
    streams: 1,
    events: events.length,
    findings: findings.list,
    counts: findings.counts,
    chain: { kind: 'not-checked', reason: 'one stream only (--stream)' },
    anchors: { checked: 0, notChecked: 'one stream only (--stream)' },
  };
}

function checkSignatures(options: VerifyOptions, findings: Findings): { valid: Anchor[]; summary: AnchorSummary } {
  const { anchors, key } = options;
  if (anchors === undefined || key === undefined) {
    const reason =
      options.anchorsNotChecked ?? (key === undefined ? 'no key (LIFELINE_AUDIT_KEY or --key)' : 'no anchors file');
    return { valid: [], summary: { checked: 0, notChecked: reason } };
  }
  for (const bad of anchors.unreadable) {
    findings.add({ kind: 'bad-signature', message: `anchors line ${bad.line}: ${bad.reason}` });
  }
  const valid: Anchor[] = [];
  for (const { line, anchor } of anchors.anchors) {
    if (anchorSignatureHolds(anchor, key)) valid.push(anchor);
    else
      findings.add({
        kind: 'bad-signature',
        position: anchor.position,
        message:
          anchor.keyId === key.keyId
            ? `anchors line ${line} (position ${anchor.position}, ${anchor.at}): the signature does not hold: the anchor was altered`
            : `anchors line ${line} (position ${anchor.position}, ${anchor.at}): signed by key ${anchor.keyId}, not by ${key.keyId}`,
      });
  }
  valid.sort((a, b) => a.position - b.position);
  return {
    valid,
    summary: { checked: valid.length, keyId: key.keyId, lastPosition: valid[valid.length - 1]?.position },
  };
}

/**
 * One pass over the log in position order: each stream's chain (a map from stream to its last
 * hash), the global chain (stored links, or derived), and each anchor when its position comes up.
 */
class LogWalk {
  streamCount = 0;
  eventCount = 0;
  private readonly streams = new Map<string, StreamTail | null>();
  private readonly derived: DerivedLogChain | undefined;
  private nextAnchor = 0;
  /** Position of the last event seen, chained or not (0: none yet). */
  private lastPosition = 0;
  /** Hash of the last link; "" before the chain starts; undefined after an unchained event. */
  private lastLinkHash: string | undefined = '';
  private lastWasLinked = false;
  private firstChained: number | undefined;
  private legacyEvents = 0;

  constructor(
    private readonly findings: Findings,
    private readonly anchors: Anchor[],
    private readonly stored: boolean,
  ) {
    this.derived = stored ? undefined : new DerivedLogChain();
  }

  page(events: StoredEvent[], links: LogLink[]): void {
    const byPosition = new Map(links.map((l) => [l.position, l]));
    for (const event of events) {
      const link = byPosition.get(event.position);
      this.anchorsBefore(event.position, link);
      this.eventCount++;
      this.checkStream(event);
      const globalHash = this.stored ? this.checkLink(event, link) : this.derive(event);
      this.lastPosition = event.position;
      this.anchorsAt(event.position, globalHash);
    }
  }

  end(): void {
    const beyond = this.anchors.slice(this.nextAnchor);
    const furthest = beyond[beyond.length - 1];
    if (furthest === undefined) return;
    this.findings.add({
      kind: 'truncated',
      position: furthest.position,
      message:
        `the log ends at position ${this.lastPosition}, before position ${furthest.position} signed on ${furthest.at} ` +
        `(${furthest.eventCount} events then; ${this.eventCount} now): events at the head of the log were removed` +
        (beyond.length > 1 ? ` (${beyond.length} anchors lie beyond the end)` : ''),
    });
  }

  summary(): ChainSummary {
    if (this.derived !== undefined) {
      const head = this.derived.current();
      return { kind: 'derived', headPosition: head.position, globalHash: head.globalHash };
    }
    return {
      kind: 'stored',
      headPosition: this.lastPosition,
      firstChained: this.firstChained,
      legacyEvents: this.legacyEvents,
    };
  }

  private checkStream(event: StoredEvent): void {
    const previous = this.streams.get(event.streamId);
    if (previous === undefined) this.streamCount++;
    if (previous === null) return; // already broken: its first broken link is reported
    const broken = checkStreamEvent(previous, event);
    if (broken !== undefined) {
      this.findings.add(streamFinding(broken.kind, event, broken.reason));
      this.streams.set(event.streamId, null);
      return;
    }
    this.streams.set(event.streamId, {
      streamId: event.streamId,
      revision: event.revision,
      hash: event.metadata.hash as string,
    });
  }

  /** Checks the stored link of one event; returns the chain's hash at its position (undefined: none). */
  private checkLink(event: StoredEvent, link: LogLink | undefined): string | undefined {
    const position = event.position;
    if (link === undefined) {
      if (this.firstChained === undefined) this.legacyEvents++;
      else
        this.findings.add({
          ...at(event),
          kind: 'gap',
          message: `position ${position} (${eventName(event)}) has no link in the global chain`,
        });
      if (this.firstChained !== undefined) this.lastLinkHash = undefined;
      this.lastWasLinked = false;
      return this.firstChained === undefined ? '' : undefined;
    }
    const first = this.firstChained === undefined;
    this.firstChained ??= position;
    let prevHash = this.lastLinkHash;
    if (link.prevPosition !== this.lastPosition) {
      prevHash = undefined;
      if (link.prevPosition > this.lastPosition) {
        this.findings.add({
          ...at(event),
          kind: 'deleted',
          message:
            `chain link broken at position ${position}: it follows position ${link.prevPosition}, ` +
            `but the event before it is at ${this.lastPosition === 0 ? 'no position (start of the log)' : `position ${this.lastPosition}`}: ` +
            `events at positions ${missing(this.lastPosition, link.prevPosition)} were deleted`,
        });
      } else {
        this.findings.add({
          ...at(event),
          kind: 'relinked',
          message:
            `chain link broken at position ${position}: it follows position ${link.prevPosition}, ` +
            `but the event before it is at position ${this.lastPosition}: an event was inserted or a link edited`,
        });
      }
    } else if (!first && this.lastWasLinked && position !== this.lastPosition + 1) {
      // The store hands out contiguous positions: a jump between two links means events written there are gone.
      this.findings.add({
        ...at(event),
        kind: 'deleted',
        message:
          `position ${position} follows position ${this.lastPosition}: positions ${missing(this.lastPosition, position - 1)} ` +
          `are missing (events written there were removed and the chain linked over them)`,
      });
    }
    if (prevHash !== undefined) {
      const expected = logLinkHash(prevHash, position, link.prevPosition, event.metadata.hash ?? '');
      if (expected !== link.hash) {
        this.findings.add({
          ...at(event),
          kind: 'rehashed',
          message:
            `the global chain recorded another hash at position ${position} (${eventName(event)}): ` +
            `the event's hash was recomputed after it was written, or its link was edited`,
        });
      }
    }
    this.lastLinkHash = link.hash;
    this.lastWasLinked = true;
    return link.hash;
  }

  private derive(event: StoredEvent): string {
    return this.derived!.add(event).globalHash;
  }

  /** Anchors signed at a position the log no longer holds (the walk has passed it to `position`). */
  private anchorsBefore(position: number, link: LogLink | undefined): void {
    while (this.nextAnchor < this.anchors.length && this.anchors[this.nextAnchor]!.position < position) {
      const anchor = this.anchors[this.nextAnchor++]!;
      // The next link goes back before the anchor: the chain was cut there and continued, not just one event taken out.
      const rewound = link !== undefined && link.prevPosition < anchor.position;
      this.findings.add({
        kind: rewound ? 'truncated' : 'deleted',
        position: anchor.position,
        message: rewound
          ? `the log was cut back to position ${link.prevPosition}, before position ${anchor.position} signed on ${anchor.at}, and appended to again`
          : `the event at position ${anchor.position}, signed by the anchor of ${anchor.at}, is missing from the log`,
      });
    }
  }

  private anchorsAt(position: number, globalHash: string | undefined): void {
    while (this.nextAnchor < this.anchors.length && this.anchors[this.nextAnchor]!.position === position) {
      const anchor = this.anchors[this.nextAnchor++]!;
      if (globalHash !== anchor.globalHash) {
        this.findings.add({
          kind: 'recomputed',
          position,
          message:
            `the global chain at position ${position} is ${globalHash || '(none)'}, the anchor signed on ${anchor.at} ` +
            `says ${anchor.globalHash || '(none)'}: the history before it was rewritten and its hashes recomputed`,
        });
      }
      if (this.eventCount !== anchor.eventCount) {
        this.findings.add({
          kind: this.eventCount < anchor.eventCount ? 'deleted' : 'relinked',
          position,
          message:
            `the anchor signed on ${anchor.at} counted ${anchor.eventCount} events up to position ${position}; ` +
            `the log holds ${this.eventCount}`,
        });
      }
    }
  }
}

class Findings {
  readonly list: Finding[] = [];
  readonly counts: Partial<Record<FindingKind, number>> = {};
  total = 0;
  constructor(private readonly limit: number) {}
  add(finding: Finding): void {
    this.total++;
    this.counts[finding.kind] = (this.counts[finding.kind] ?? 0) + 1;
    if (this.list.length < this.limit) this.list.push(finding);
  }
}

function streamFinding(kind: FindingKind, event: StoredEvent, reason: string): Finding {
  return {
    ...at(event),
    kind,
    message: `stream ${event.streamId} revision ${event.revision} event ${event.id}: ${reason}`,
  };
}

const at = (event: StoredEvent): Pick<Finding, 'position' | 'streamId' | 'revision' | 'eventId'> => ({
  position: event.position,
  streamId: event.streamId,
  revision: event.revision,
  eventId: event.id,
});

const eventName = (event: StoredEvent): string => `stream ${event.streamId} revision ${event.revision}`;

const missing = (after: number, upTo: number): string => (after + 1 === upTo ? String(upTo) : `${after + 1}..${upTo}`);
