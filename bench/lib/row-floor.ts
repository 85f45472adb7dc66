/**
 * The storage floor of a run: every row the server inserted while it ran, stored again by plain better-sqlite3
 * into fresh files with the same schema (tables and indexes) and the writers' pragmas, in as many transactions per
 * file as the run made batches. No engine code runs: what it costs is what SQLite alone takes for those rows, a
 * lower bound for any engine that keeps them. Rows a run updated rather than inserted are not counted (a floor
 * that leaves work out stays a floor).
 */
import { hash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

type Row = Record<string, unknown>;

/** Each file's tables and the primary keys of the rows they held: what was there before a run. */
export type KeySnapshot = Map<string, Map<string, Set<string>>>;

interface TableInfo {
  name: string;
  /** The primary key's columns, or rowid for a rowid table without an integer primary key. */
  key: string[];
  columns: string[];
  withoutRowid: boolean;
}

export interface FloorFile {
  file: string;
  /** Rows inserted, per table (tables that got none are left out). */
  rows: Record<string, number>;
  /** B-trees written per row inserted, summed: each table and each of its indexes. */
  bTreeWrites: number;
  cpuSeconds: number;
}

export interface RowFloor {
  files: FloorFile[];
  /** CPU seconds of storing every file's rows. */
  cpuSeconds: number;
  /** The same plus one SHA-256 digest of each stored event's data and metadata (the least a hash chain needs). */
  cpuSecondsWithDigests: number;
  /** Wall seconds of storing them on one thread. */
  seconds: number;
}

const dbFiles = (dataDir: string) => readdirSync(dataDir).filter((f) => f.endsWith('.db'));

function tablesOf(db: Database.Database): TableInfo[] {
  const names = db
    .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .all() as { name: string; sql: string }[];
  return names.map(({ name, sql }) => {
    const info = db.prepare(`PRAGMA table_info("${name}")`).all() as { name: string; pk: number }[];
    const pk = info
      .filter((c) => c.pk > 0)
      .sort((a, b) => a.pk - b.pk)
      .map((c) => c.name);
    const withoutRowid = /WITHOUT\s+ROWID/i.test(sql);
    return {
      name,
      key: pk.length > 0 || withoutRowid ? pk : ['rowid'],
      columns: info.map((c) => c.name),
      withoutRowid,
    };
  });
}

const keyOf = (row: Row, key: string[]) => JSON.stringify(key.map((k) => row[k]));

/** The keys every table of every store file in `dataDir` holds now (read while the server runs: WAL readers). */
export function snapshotKeys(dataDir: string): KeySnapshot {
  const snapshot: KeySnapshot = new Map();
  for (const file of dbFiles(dataDir)) {
    const db = new Database(join(dataDir, file), { readonly: true, fileMustExist: true });
    try {
      const tables = new Map<string, Set<string>>();
      for (const table of tablesOf(db)) {
        const rows = db
          .prepare(`SELECT ${table.key.map((k) => `"${k}"`).join(', ')} FROM "${table.name}"`)
          .all() as Row[];
        tables.set(table.name, new Set(rows.map((r) => keyOf(r, table.key))));
      }
      snapshot.set(file, tables);
    } finally {
      db.close();
    }
  }
  return snapshot;
}

interface Copy {
  file: string;
  target: Database.Database;
  /** Per table: its insert statement and the rows the run inserted, in key order, as the statement's values. */
  tables: { info: TableInfo; insert: Database.Statement; rows: unknown[][] }[];
  bTreeWrites: number;
}

/** Opens a fresh copy of one store file: same schema, the rows that were there before the run, the writers' pragmas. */
function prepareCopy(
  source: Database.Database,
  file: string,
  before: Map<string, Set<string>>,
  until: Map<string, Set<string>> | undefined,
  dir: string,
): Copy {
  const target = new Database(join(dir, file));
  // As Lifeline's writers open their files (event store and read models).
  target.pragma('page_size = 8192');
  target.pragma('journal_mode = WAL');
  target.pragma('synchronous = NORMAL');
  target.pragma('foreign_keys = OFF');
  target.pragma('wal_autocheckpoint = 10000');
  target.pragma('cache_size = -65536');
  target.pragma('temp_store = MEMORY');
  const schema = source
    .prepare("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'")
    .all() as { type: string; name: string; tbl_name: string; sql: string }[];
  for (const { sql } of schema) target.exec(sql);
  const indexes = (table: string) => schema.filter((s) => s.type === 'index' && s.tbl_name === table).length;
  // Implicit indexes (UNIQUE constraints, a text primary key of a rowid table) are B-trees written too; the primary
  // key of a WITHOUT ROWID table is the table itself.
  const autoIndexes = (table: TableInfo) =>
    (source.prepare(`PRAGMA index_list("${table.name}")`).all() as { origin: string }[]).filter(
      (i) => i.origin === 'u' || (i.origin === 'pk' && !table.withoutRowid),
    ).length;
  const copy: Copy = { file, target, tables: [], bTreeWrites: 0 };
  for (const info of tablesOf(source)) {
    const had = before.get(info.name) ?? new Set<string>();
    const all = source
      .prepare(
        `SELECT ${info.key[0] === 'rowid' ? 'rowid, ' : ''}* FROM "${info.name}" ORDER BY ${info.key.map((k) => `"${k}"`).join(', ')}`,
      )
      .all() as Row[];
    const columns = info.columns.map((c) => `"${c}"`).join(', ');
    const insert = target.prepare(
      `INSERT INTO "${info.name}" (${columns}) VALUES (${info.columns.map(() => '?').join(', ')})`,
    );
    const values = (row: Row) => info.columns.map((c) => row[c]);
    const old = all.filter((r) => had.has(keyOf(r, info.key)));
    target.transaction(() => {
      for (const row of old) insert.run(values(row));
    })();
    const upTo = until?.get(info.name);
    const rows = all.filter(
      (r) => !had.has(keyOf(r, info.key)) && (until === undefined || upTo?.has(keyOf(r, info.key))),
    );
    if (rows.length === 0) continue;
    copy.tables.push({ info, insert, rows: rows.map(values) });
    copy.bTreeWrites += rows.length * (1 + indexes(info.name) + autoIndexes(info));
  }
  return copy;
}

/**
 * Stores again, with plain better-sqlite3, every row the run inserted into `dataDir`'s store files (those not in
 * `before`, and when `until` is given, in it: one phase of a longer run), in `transactions` transactions per file.
 * Run it after the server has stopped.
 */
export function rowFloor(dataDir: string, before: KeySnapshot, transactions: number, until?: KeySnapshot): RowFloor {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-row-floor-'));
  const copies: Copy[] = [];
  try {
    for (const file of dbFiles(dataDir)) {
      const source = new Database(join(dataDir, file), { readonly: true, fileMustExist: true });
      try {
        const copy = prepareCopy(source, file, before.get(file) ?? new Map(), until?.get(file), dir);
        if (copy.tables.length > 0) copies.push(copy);
        else copy.target.close();
      } finally {
        source.close();
      }
    }
    const files: FloorFile[] = [];
    const started = performance.now();
    for (const copy of copies) {
      const cpu = process.cpuUsage();
      for (let t = 0; t < transactions; t++) {
        copy.target
          .transaction(() => {
            for (const { insert, rows } of copy.tables) {
              const from = Math.floor((rows.length * t) / transactions);
              const to = Math.floor((rows.length * (t + 1)) / transactions);
              for (let i = from; i < to; i++) insert.run(rows[i]!);
            }
          })
          .immediate();
      }
      const used = process.cpuUsage(cpu);
      files.push({
        file: copy.file,
        rows: Object.fromEntries(copy.tables.map((t) => [t.info.name, t.rows.length])),
        bTreeWrites: copy.bTreeWrites,
        cpuSeconds: (used.user + used.system) / 1e6,
      });
    }
    const seconds = (performance.now() - started) / 1000;
    const cpuSeconds = files.reduce((sum, f) => sum + f.cpuSeconds, 0);
    const digestCpu = process.cpuUsage();
    for (const copy of copies) {
      const events = copy.tables.find((t) => t.info.name === 'events' && t.info.columns.includes('metadata'));
      const data = events?.info.columns.indexOf('data') ?? -1;
      const metadata = events?.info.columns.indexOf('metadata') ?? -1;
      for (const row of events?.rows ?? []) hash('sha256', String(row[data]) + String(row[metadata]), 'hex');
    }
    const digests = process.cpuUsage(digestCpu);
    return { files, cpuSeconds, cpuSecondsWithDigests: cpuSeconds + (digests.user + digests.system) / 1e6, seconds };
  } finally {
    for (const copy of copies) copy.target.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
