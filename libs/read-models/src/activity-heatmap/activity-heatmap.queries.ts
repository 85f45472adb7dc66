import type { z } from 'zod';
import type { ACTIVITY_STAYS, ACTIVITY_HEAT, ACTIVITY_HEATMAP_RESULT } from '../results';
import type { Sql } from '../read-model-db';
import { cachedStatement } from '../statement-cache';

export type ActivityStays = z.infer<typeof ACTIVITY_STAYS>;

export type ActivityHeat = z.infer<typeof ACTIVITY_HEAT>;

export type ActivityHeatmap = z.infer<typeof ACTIVITY_HEATMAP_RESULT>;

interface HeatRecord {
  activity_id: string;
  here: number;
  incidents: number;
  entered: number;
  stays: number;
  stay_ms: number;
  stay_max_ms: number;
}

/** The heatmap of one version of a definition (empty activities when no instance of it has moved yet). */
export function activityHeatmap(db: Sql, definitionKey: string, version: number): ActivityHeatmap {
  const rows = cachedStatement(
    db,
    `SELECT activity_id, here, incidents, entered, stays, stay_ms, stay_max_ms FROM activity_heatmap
     WHERE definition_key = ? AND definition_version = ? ORDER BY activity_id`,
  ).all(definitionKey, version) as HeatRecord[];
  return {
    definitionKey,
    version,
    activities: rows
      .filter((r) => r.here !== 0 || r.incidents !== 0 || r.entered !== 0 || r.stays !== 0)
      .map((r) => ({
        activityId: r.activity_id,
        instances: r.here,
        incidents: r.incidents,
        entered: r.entered,
        stays: {
          count: r.stays,
          meanMs: r.stays > 0 ? Math.round(r.stay_ms / r.stays) : null,
          maxMs: r.stays > 0 ? r.stay_max_ms : null,
        },
      })),
  };
}

/** The published versions of a definition, oldest first (none for an unknown key): from the process grid. */
export function publishedVersions(db: Sql, definitionKey: string): number[] {
  return cachedStatement(db, 'SELECT version FROM definition_versions WHERE key = ? ORDER BY version')
    .pluck()
    .all(definitionKey) as number[];
}
