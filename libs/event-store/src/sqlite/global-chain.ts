import type Database from 'better-sqlite3';
import { logLinkHash, type LogLink } from '../log-chain';

/**
 * The global chain of the SQLite log (docs/decisions/0004-tamper-evidence.md): two columns of the
 * events row, written by the same INSERT, so chaining costs one sha256 per event and no extra row.
 * Events written before this migration keep NULL links ("legacy"); the chain starts after them.
 */
export const globalChainMigration = `ALTER TABLE events ADD COLUMN chain_prev INTEGER;
   ALTER TABLE events ADD COLUMN chain_hash TEXT;`;

interface HeadRow {
  position: number;
  chain_hash: string | null;
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
  /** The last link handed out in the current transaction; read from the file on the first event. */
  private tail: { nextPosition: number; position: number; hash: string } | undefined;
  private readonly selectHead: Database.Statement<[], HeadRow>;
  private readonly selectSequence: Database.Statement<[], { seq: number }>;
  private readonly selectLinks: Database.Statement<[number, number], LinkRow>;
  private readonly countRange: Database.Statement<[number, number], { n: number }>;

  constructor(db: Database.Database) {
    this.selectHead = db.prepare('SELECT position, chain_hash FROM events ORDER BY position DESC LIMIT 1');
    this.selectSequence = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'");
    this.selectLinks = db.prepare(
      `SELECT position, chain_prev, chain_hash FROM events
        WHERE position > ? AND position <= ? AND chain_hash IS NOT NULL ORDER BY position ASC`,
    );
    this.countRange = db.prepare('SELECT COUNT(*) AS n FROM events WHERE position > ? AND position <= ?');
  }

  /** Forgets the tail: call when a write transaction starts (another connection may have appended since). */
  beginTransaction(): void {
    this.tail = undefined;
  }

  /** The position and link of the next event appended in this transaction, given its per-stream hash. */
  next(eventHash: string): LogLink {
    const tail = (this.tail ??= this.readTail());
    const link: LogLink = {
      position: tail.nextPosition,
      prevPosition: tail.position,
      hash: logLinkHash(tail.hash, tail.nextPosition, tail.position, eventHash),
    };
    this.tail = { nextPosition: link.position + 1, position: link.position, hash: link.hash };
    return link;
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

  private readTail(): { nextPosition: number; position: number; hash: string } {
    const head = this.selectHead.get();
    const position = head?.position ?? 0;
    const sequence = this.selectSequence.get()?.seq ?? 0;
    // An unchained last event (written before the chain existed) makes the next link the first: prevHash "".
    return { nextPosition: Math.max(sequence, position) + 1, position, hash: head?.chain_hash ?? '' };
  }
}
