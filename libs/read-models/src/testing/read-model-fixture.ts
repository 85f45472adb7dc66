import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allProjections } from '../projections';
import { Projector, ReadModelDb, type Projection, type Sql } from '../read-model-db';
import { EventLog } from './event-log';

/** A real read-model file in a temporary folder, fed from a hand-built log. */
export class ReadModelFixture {
  readonly dir = mkdtempSync(join(tmpdir(), 'lifeline-read-models-'));
  readonly log = new EventLog();
  readonly db: ReadModelDb;
  readonly projector: Projector;
  private applied = 0;

  constructor(projections: Projection[] = allProjections()) {
    this.db = ReadModelDb.open(join(this.dir, 'read-models.sqlite'));
    this.projector = new Projector(this.db, projections);
  }

  get sql(): Sql {
    return this.db.sql;
  }

  /** Projects every event appended to the log since the last call, as one batch. */
  project(): this {
    this.projector.applyBatch(this.log.events.slice(this.applied));
    this.applied = this.log.events.length;
    return this;
  }

  file(name: string): string {
    return join(this.dir, name);
  }

  dispose(): void {
    this.db.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
