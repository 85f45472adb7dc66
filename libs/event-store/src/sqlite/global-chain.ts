import type Database from 'better-sqlite3';
import { logLinkHash, type LogLink } from '../log-chain';

/**
 * The global chain of the SQLite log (docs/decisions/0005-tamper-evidence.md): two columns of the
 * events row, written by the same INSERT, so chaining costs one sha256 per event and no extra row.
 * Events written before this migration keep NULL links ("legacy"); the chain starts after them.
 */
export const globalChainMigration = `ALTER TABLE events ADD COLUMN chain_prev INTEGER;
   ALTER TABLE events ADD COLUMN chain_hash TEXT;`;

interface HeadRow {
  position: number;
  chain_hash: string | null;
}

interface TailRow {
  seq: number | null;
  position: number | null;
  chain_hash: string | null;
}

interface Tail {
  nextPosition: number;
  position: number;
  hash: string;
}

/** The chain's tail at a savepoint. */
export interface ChainMark {
  tail: Tail | undefined;
  version: number;
}

interface LinkRow {
  position: number;
  chain_prev: number;
  chain_hash: string;
}

/**
 * Hands out positions and links inside the append transaction. Positions are allocated here, not
 * by SQLite, because each link hashes its own position: max(sqlite_sequence, last position) + 1,
 * which is what AUTOINCREMENT would pick (a position is never reused, even after a deletion).
 */
export class SqliteGlobalChain {
  /** The last link handed out in the current transaction; undefined until its first event. */
  private tail: Tail | undefined;
  /**
   * The tail after this connection's last committed append, and the file's data_version then (read
   * under the write lock). While data_version is unchanged no other connection committed, so the
   * next transaction goes on from it without reading the file.
   */
  private committedTail: (Tail & { version: number }) | undefined;
  private tailVersion = 0;
  private readonly dataVersion: Database.Statement<[], { data_version: number }>;
  private readonly selectHead: Database.Statement<[], HeadRow>;
  private readonly selectTail: Database.Statement<[], TailRow>;
  private readonly selectLinks: Database.Statement<[number, number], LinkRow>;
  private readonly countRange: Database.Statement<[number, number], { n: number }>;

  constructor(db: Database.Database) {
    this.selectHead = db.prepare('SELECT position, chain_hash FROM events ORDER BY position DESC LIMIT 1');
    // One statement: the last event, its link, and the highest position ever handed out.
    this.selectTail = db.prepare(
      `SELECT (SELECT seq FROM sqlite_sequence WHERE name = 'events') AS seq, e.position AS position,
              e.chain_hash AS chain_hash
         FROM (SELECT 1) LEFT JOIN events e ON e.position = (SELECT MAX(position) FROM events)`,
    );
    this.selectLinks = db.prepare(
      `SELECT position, chain_prev, chain_hash FROM events
        WHERE position > ? AND position <= ? AND chain_hash IS NOT NULL ORDER BY position ASC`,
    );
    this.countRange = db.prepare('SELECT COUNT(*) AS n FROM events WHERE position > ? AND position <= ?');
    this.dataVersion = db.prepare('PRAGMA data_version');
  }

  /** Call when a write transaction starts. */
  beginTransaction(): void {
    this.tail = undefined;
  }

  /** Call once the transaction committed: its tail is where the next one goes on. */
  committed(): void {
    if (this.tail !== undefined) this.committedTail = { ...this.tail, version: this.tailVersion };
  }

  /** Where the tail is now: a savepoint remembers it, and a rollback to the savepoint restores it. */
  mark(): ChainMark {
    return { tail: this.tail === undefined ? undefined : { ...this.tail }, version: this.tailVersion };
  }

  restore(mark: ChainMark): void {
    this.tail = mark.tail === undefined ? undefined : { ...mark.tail };
    this.tailVersion = mark.version;
  }

  /** Call when the transaction rolled back: what it handed out never happened. */
  rolledBack(): void {
    this.committedTail = undefined;
  }

  /**
   * The position and link of the next event appended in this transaction, given its per-stream hash.
   * The tail moves on only with `advance`, once the event's row is written (an insert that fails takes no position).
   */
  next(eventHash: string): LogLink {
    const tail = (this.tail ??= this.startingTail());
    return {
      position: tail.nextPosition,
      prevPosition: tail.position,
      hash: logLinkHash(tail.hash, tail.nextPosition, tail.position, eventHash),
    };
  }

  /** The link `next` gave is written: the next event follows it. */
  advance(link: LogLink): void {
    this.tail = { nextPosition: link.position + 1, position: link.position, hash: link.hash };
  }

  links(afterPosition: number, upToPosition: number): LogLink[] {
    return this.selectLinks
      .all(afterPosition, upToPosition)
      .map((row) => ({ position: row.position, prevPosition: row.chain_prev, hash: row.chain_hash }));
  }

  head(): { position: number; hash: string } {
    const row = this.selectHead.get();
    return { position: row?.position ?? 0, hash: row?.chain_hash ?? '' };
  }

  count(afterPosition: number, upToPosition: number): number {
    return this.countRange.get(afterPosition, upToPosition)?.n ?? 0;
  }

  /** Inside the write transaction: the committed tail if no other connection wrote since, else the file's. */
  private startingTail(): Tail {
    const version = this.dataVersion.get()?.data_version ?? 0;
    this.tailVersion = version;
    const cached = this.committedTail;
    if (cached !== undefined && cached.version === version) return cached;
    const row = this.selectTail.get();
    const position = row?.position ?? 0;
    // An unchained last event (written before the chain existed) makes the next link the first: prevHash "".
    return { nextPosition: Math.max(row?.seq ?? 0, position) + 1, position, hash: row?.chain_hash ?? '' };
  }
}
