import type { ProcessDefinition } from '../definition/definition';
import { DefinitionNotFound } from '../definition-stream/definition-stream';
import type { EntityRef } from '../events';
import { DomainError } from '../errors';
import { DefinitionDisabled } from '../reactions/start-reactions';
import { isAdmin, type Actor, type StartInstance } from './commands';
import { DefinitionVersionMismatch } from './instance-errors';

/**
 * Starting a process by hand for a record (POST /instances): who may, and what it starts. A
 * definition names the roles that may in `startableBy`; admins always may.
 */

/** The caller holds none of the definition's `startableBy` roles (and is no admin). */
export class StartForbidden extends DomainError {
  readonly code = 'INSTANCE.START_FORBIDDEN';
  readonly family = 'forbidden' as const;
}
/** The request names a record of another type than the definition is about. */
export class WrongEntityType extends DomainError {
  readonly code = 'INSTANCE.WRONG_ENTITY_TYPE';
  readonly family = 'conflict' as const;
}

/** The latest published version of a definition and whether it is enabled now. */
export interface LaunchableDefinition {
  definition: ProcessDefinition;
  version: number;
  enabled: boolean;
}

export interface ManualStart {
  instanceId: string;
  definitionKey: string;
  entity: EntityRef;
  variables: Record<string, unknown>;
}

/** May this actor start the definition by hand? Admins (and the engine) always; others through a `startableBy` role. */
export const mayStartByHand = (definition: Pick<ProcessDefinition, 'startableBy'>, actor: Actor): boolean =>
  isAdmin(actor) || (definition.startableBy ?? []).some((role) => actor.roles.includes(role));

/**
 * The start command for a start by hand, on the latest version, or why not: unknown definition,
 * a caller without the right (checked first, so it learns nothing else), deactivated, another record type.
 */
export function decideManualStart(
  latest: LaunchableDefinition | undefined,
  request: ManualStart,
  actor: Actor,
): StartInstance {
  if (!latest) throw new DefinitionNotFound(`No definition ${request.definitionKey}`);
  if (!mayStartByHand(latest.definition, actor)) {
    throw new StartForbidden(`Only admins and the roles in startableBy may start ${request.definitionKey} by hand`, {
      definitionKey: request.definitionKey,
    });
  }
  if (!latest.enabled) {
    throw new DefinitionDisabled(`The definition ${request.definitionKey} is deactivated; activate it first`);
  }
  if (latest.definition.relatedEntity !== request.entity.type) {
    throw new WrongEntityType(
      `${request.definitionKey} is about ${latest.definition.relatedEntity}, not ${request.entity.type}`,
    );
  }
  return {
    type: 'StartInstance',
    instanceId: request.instanceId,
    definitionKey: request.definitionKey,
    definitionVersion: latest.version,
    entity: { type: request.entity.type, id: request.entity.id },
    variables: request.variables,
    cause: { kind: 'api', by: actor.id },
  };
}

/** A start by hand handed over as a command: the same rule, and it must name the latest version. */
export function checkManualStart(
  latest: LaunchableDefinition | undefined,
  command: StartInstance,
  actor: Actor,
): StartInstance {
  const decided = decideManualStart(latest, command, actor);
  if (decided.definitionVersion !== command.definitionVersion) {
    throw new DefinitionVersionMismatch(
      `A start by hand runs the latest version of ${command.definitionKey} (v${decided.definitionVersion}), not v${command.definitionVersion}`,
    );
  }
  return decided;
}
