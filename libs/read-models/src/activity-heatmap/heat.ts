import type { Statement } from 'better-sqlite3';
import type { Line } from '../instances/positions';

/**
 * The activity heatmap, kept by the instances projection from what it already holds per instance (its lines, each
 * with when it got there, and its open incidents), so it costs no row of its own per instance: per definition version
 * and activity, the lines resting there now, the open incidents there, how many times it was entered, and the stays
 * that ended there (how many, their total and longest time in ms).
 */
export const ACTIVITY_HEATMAP_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS activity_heatmap (
    definition_key TEXT NOT NULL,
    definition_version INTEGER NOT NULL,
    activity_id TEXT NOT NULL,
    here INTEGER NOT NULL DEFAULT 0,
    incidents INTEGER NOT NULL DEFAULT 0,
    entered INTEGER NOT NULL DEFAULT 0,
    stays INTEGER NOT NULL DEFAULT 0,
    stay_ms INTEGER NOT NULL DEFAULT 0,
    stay_max_ms INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (definition_key, definition_version, activity_id)
  ) WITHOUT ROWID`,
];

/** The definition version an instance runs: where its figures count. */
export interface HeatOwner {
  key: string;
  version: number;
}

/** Changes to one activity's row gathered over a batch. */
interface Delta {
  key: string;
  version: number;
  activityId: string;
  here: number;
  incidents: number;
  entered: number;
  stays: number;
  stayMs: number;
  stayMaxMs: number;
}

/** A batch's changes to the heatmap, added to its rows once at the batch's end. */
export class HeatDeltas {
  private readonly deltas = new Map<string, Delta>();

  private at(owner: HeatOwner, activityId: string): Delta {
    const id = `${owner.key}\u0000${owner.version}\u0000${activityId}`;
    let d = this.deltas.get(id);
    if (d === undefined) {
      const zero = { here: 0, incidents: 0, entered: 0, stays: 0, stayMs: 0, stayMaxMs: 0 };
      d = { key: owner.key, version: owner.version, activityId, ...zero };
      this.deltas.set(id, d);
    }
    return d;
  }

  entered(owner: HeatOwner, activityId: string): void {
    this.at(owner, activityId).entered += 1;
  }

  /**
   * The lines moved from `before` (counted under `from`) to `after` (under `to`) at `at`. A line counts where it
   * rests, except one resting at a fork while its branches run. A line that entered an activity and no longer rests
   * there since the same moment has ended a stay there; `renamed` (a migration) moves the counts without ending any stay.
   */
  linesMoved(
    from: HeatOwner,
    before: readonly Line[],
    to: HeatOwner,
    after: readonly Line[],
    at: string,
    renamed: boolean,
  ): void {
    for (const line of before) if (line.forked === undefined) this.at(from, line.activityId).here -= 1;
    for (const line of after) if (line.forked === undefined) this.at(to, line.activityId).here += 1;
    if (renamed) return;
    const atMs = Date.parse(at);
    for (const line of before) {
      if (line.forked !== undefined || line.placeholder) continue;
      const still = after.some(
        (l) =>
          l.forked === undefined &&
          l.token === line.token &&
          l.activityId === line.activityId &&
          l.since === line.since,
      );
      if (still) continue;
      const ms = Math.max(0, atMs - Date.parse(line.since));
      const d = this.at(from, line.activityId);
      d.stays += 1;
      d.stayMs += ms;
      if (ms > d.stayMaxMs) d.stayMaxMs = ms;
    }
  }

  /** Open incidents moved: `before` no longer counts under `from`, `after` counts under `to` (each by activity). */
  incidentsMoved(from: HeatOwner, before: readonly string[], to: HeatOwner, after: readonly string[]): void {
    for (const activityId of before) this.at(from, activityId).incidents -= 1;
    for (const activityId of after) this.at(to, activityId).incidents += 1;
  }

  clear(): void {
    this.deltas.clear();
  }

  /** Adds the batch's changes to the rows (one upsert per activity touched, with HEAT_UPSERT). */
  write(upsert: Statement): void {
    for (const d of this.deltas.values()) {
      if (d.here !== 0 || d.incidents !== 0 || d.entered !== 0 || d.stays !== 0) upsert.run(d);
    }
    this.deltas.clear();
  }
}

/** Adds one activity's changes to its row. */
export const HEAT_UPSERT = `INSERT INTO activity_heatmap (definition_key, definition_version, activity_id, here, incidents,
    entered, stays, stay_ms, stay_max_ms)
  VALUES (@key, @version, @activityId, @here, @incidents, @entered, @stays, @stayMs, @stayMaxMs)
  ON CONFLICT (definition_key, definition_version, activity_id) DO UPDATE SET here = here + excluded.here,
    incidents = incidents + excluded.incidents, entered = entered + excluded.entered,
    stays = stays + excluded.stays, stay_ms = stay_ms + excluded.stay_ms,
    stay_max_ms = max(stay_max_ms, excluded.stay_max_ms)`;
