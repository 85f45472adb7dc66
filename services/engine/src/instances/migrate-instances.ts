import {
  DomainError,
  MigrationNotPossible,
  type Actor,
  type MigrateInstance,
  type MigrationReason,
} from '@lifeline/process-domain';
import { describeFailure } from '../shared/failure-policy';
import type { CommandOrigin } from '../shared/metadata';

/** POST /definitions/:key/migrate, once the API selected the instances (README, "Migrating running instances"). */
export interface MigrationRequest {
  definitionKey: string;
  fromVersion: number;
  toVersion: number;
  mapping: Record<string, string>;
  /** The running and suspended instances of `fromVersion` selected. */
  instanceIds: readonly string[];
  dryRun: boolean;
}

/** An instance that cannot (or could not) move, with the decider's code and, for MIGRATION.NOT_POSSIBLE, the reasons by activity. */
export interface CannotMove {
  instanceId: string;
  code: string;
  message: string;
  reasons: MigrationReason[];
}

export type MigrationResult =
  | { dryRun: true; movable: string[]; cannotMove: CannotMove[] }
  | { dryRun: false; moved: string[]; cannotMove: CannotMove[] };

/** What a migration run needs from the engine: both versions checked, one instance decided (and written unless a dry run). */
export interface MigrationPorts {
  /** Throws DefinitionNotFound (404) when a version does not exist. */
  requireVersion(key: string, version: number): Promise<void>;
  /** Decides without writing: throws the refusal the real migration would meet. */
  decideOnly(instanceId: string, command: MigrateInstance, actor: Actor): Promise<void>;
  /** One command on one instance stream, its own unit of work. */
  migrate(instanceId: string, command: MigrateInstance, actor: Actor, origin: CommandOrigin): Promise<void>;
}

/**
 * Moves each selected instance with one MigrateInstance of its own: a refusal (or a failure) on one is listed
 * and the others go on. Concurrent migrations of one instance meet on its stream's revision: the loser's retry
 * finds it on the target version already (MIGRATION.ALREADY_ON_VERSION).
 */
export async function migrateInstances(
  ports: MigrationPorts,
  request: MigrationRequest,
  actor: Actor,
  origin: CommandOrigin,
): Promise<MigrationResult> {
  await ports.requireVersion(request.definitionKey, request.fromVersion);
  await ports.requireVersion(request.definitionKey, request.toVersion);
  const command: MigrateInstance = {
    type: 'MigrateInstance',
    fromVersion: request.fromVersion,
    toVersion: request.toVersion,
    mapping: request.mapping,
  };
  const done: string[] = [];
  const cannotMove: CannotMove[] = [];
  for (const instanceId of request.instanceIds) {
    try {
      if (request.dryRun) await ports.decideOnly(instanceId, command, actor);
      else {
        // Each instance's events get ids of their own: the request's command id alone would repeat across streams.
        const own = { ...origin, commandId: `${origin.commandId}:migrate:${instanceId}` };
        await ports.migrate(instanceId, command, actor, own);
      }
      done.push(instanceId);
    } catch (error) {
      if (!(error instanceof DomainError) && request.dryRun) throw error;
      const { code, message } = describeFailure(error);
      cannotMove.push({
        instanceId,
        code,
        message,
        reasons: error instanceof MigrationNotPossible ? error.reasons : [],
      });
    }
  }
  return request.dryRun ? { dryRun: true, movable: done, cannotMove } : { dryRun: false, moved: done, cannotMove };
}
