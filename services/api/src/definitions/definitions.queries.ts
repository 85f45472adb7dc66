import { Injectable } from '@nestjs/common';
import type { z } from 'zod';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import {
  activityHeatmap,
  getDefinition,
  getDefinitionVersion,
  instancesToMigrate,
  listDefinitions,
  publishedVersions,
  readTogether,
  type ActivityHeatmap,
  type DefinitionDetails,
  type DefinitionFilter,
  type MigrationSelection,
  type Sql,
} from '@lifeline/read-models';
import { DEFINITION_KEY } from '@lifeline/process-domain';
import { NotFound, RequestInvalid } from '../http/api-errors';
import { ReadSide } from '../http/read-side';
import type { DEFINITION_LIST } from '../http/answers';

/** A version in a query: a positive integer (absent or empty: the latest). */
export const VERSION_PATTERN = '^([1-9][0-9]{0,8})?$';
const VERSION = new RegExp(VERSION_PATTERN);

export const checkKey = (key: string): string => {
  if (!DEFINITION_KEY.test(key)) throw new NotFound('DEFINITION.NOT_FOUND', `No definition ${key.slice(0, 80)}`);
  return key;
};

/** The version a query asks for: undefined for the latest; QUERY.INVALID for anything but a positive integer. */
function versionQuery(version: unknown): number | undefined {
  if (version !== undefined && (typeof version !== 'string' || !VERSION.test(version))) {
    throw new RequestInvalid('QUERY.INVALID', 'version must be a version number (a whole number from 1)');
  }
  return version ? Number(version) : undefined;
}

/**
 * The published version a query names (`asked`; undefined: the latest), or 404: DEFINITION.NOT_FOUND for an unknown
 * key, DEFINITION.VERSION_NOT_FOUND for a version it does not have.
 */
function publishedVersion(db: Sql, key: string, asked: number | undefined): number {
  const versions = publishedVersions(db, key);
  if (versions.length === 0) throw new NotFound('DEFINITION.NOT_FOUND', `No definition ${key}`);
  const wanted = asked ?? versions[versions.length - 1]!;
  if (!versions.includes(wanted)) {
    throw new NotFound('DEFINITION.VERSION_NOT_FOUND', `No version ${wanted} of definition ${key}`);
  }
  return wanted;
}

/** The process grid. */
export class DefinitionListQuery extends Query<z.output<typeof DEFINITION_LIST>> {
  constructor(
    readonly filter: DefinitionFilter,
    readonly minPosition?: string,
  ) {
    super();
  }
}

/** A definition with its triggers and versions. */
export class DefinitionQuery extends Query<DefinitionDetails> {
  constructor(
    readonly key: string,
    readonly minPosition?: string,
  ) {
    super();
  }
}

/** A version as BPMN 2.0 XML: the XML it was published as, else an export with an automatic layout. */
export class DefinitionBpmnQuery extends Query<string> {
  constructor(
    readonly key: string,
    readonly version: string | undefined,
    readonly minPosition: string | undefined,
  ) {
    super();
  }
}

/** Per activity of one version: where instances are, incidents, entries and stays. */
export class ActivityHeatmapQuery extends Query<ActivityHeatmap & { position: number }> {
  constructor(
    readonly key: string,
    readonly version: string | undefined,
    readonly minPosition: string | undefined,
  ) {
    super();
  }
}

/** The running and suspended instances of a version a migration selects. */
export class InstancesToMigrateQuery extends Query<string[]> {
  constructor(readonly selection: MigrationSelection) {
    super();
  }
}

@Injectable()
@QueryHandler(DefinitionListQuery)
export class DefinitionListHandler implements IQueryHandler<DefinitionListQuery> {
  constructor(private readonly read: ReadSide) {}
  async execute({ filter, minPosition }: DefinitionListQuery) {
    const { position } = await this.read.atLeast(minPosition, ['process-grid']);
    return { position, items: listDefinitions(this.read.db, filter) };
  }
}

@Injectable()
@QueryHandler(DefinitionQuery)
export class DefinitionHandler implements IQueryHandler<DefinitionQuery, DefinitionDetails> {
  constructor(private readonly read: ReadSide) {}
  async execute({ key, minPosition }: DefinitionQuery): Promise<DefinitionDetails> {
    await this.read.atLeast(minPosition, ['process-grid']);
    const found = getDefinition(this.read.db, checkKey(key));
    if (!found) throw new NotFound('DEFINITION.NOT_FOUND', `No definition ${key}`);
    return found;
  }
}

@Injectable()
@QueryHandler(DefinitionBpmnQuery)
export class DefinitionBpmnHandler implements IQueryHandler<DefinitionBpmnQuery, string> {
  constructor(private readonly read: ReadSide) {}
  async execute({ key, version, minPosition }: DefinitionBpmnQuery): Promise<string> {
    checkKey(key);
    const asked = versionQuery(version);
    await this.read.atLeast(minPosition, ['process-grid']);
    const db = this.read.db;
    const found = readTogether(db, () => getDefinitionVersion(db, key, publishedVersion(db, key, asked)))!;
    // The export is loaded on first use: a server nobody asks for BPMN does not carry the moddle libraries.
    return found.bpmn ?? (await import('@lifeline/bpmn')).exportBpmn(found.definition);
  }
}

@Injectable()
@QueryHandler(ActivityHeatmapQuery)
export class ActivityHeatmapHandler implements IQueryHandler<ActivityHeatmapQuery> {
  constructor(private readonly read: ReadSide) {}
  async execute({ key, version, minPosition }: ActivityHeatmapQuery) {
    const asked = versionQuery(version);
    const { position } = await this.read.atLeast(minPosition, ['process-grid', 'instances']);
    const db = this.read.db;
    return readTogether(db, () => ({
      position,
      ...activityHeatmap(db, key, publishedVersion(db, checkKey(key), asked)),
    }));
  }
}

@Injectable()
@QueryHandler(InstancesToMigrateQuery)
export class InstancesToMigrateHandler implements IQueryHandler<InstancesToMigrateQuery, string[]> {
  constructor(private readonly read: ReadSide) {}
  async execute({ selection }: InstancesToMigrateQuery): Promise<string[]> {
    await this.read.atLeast(undefined, ['instances']);
    return instancesToMigrate(this.read.db, selection);
  }
}
