import type { ProcessDefinition } from '../definition/definition';
import { DomainError } from '../errors';
import type { DefinitionEvent } from '../events';
import type { Decider } from '../decider';

/** The `definition-<key>` stream: published versions, enabled flag, execution order. */
export type DefinitionState =
  | { status: 'none' }
  | {
      status: 'published';
      key: string;
      latestVersion: number;
      latest: ProcessDefinition;
      enabled: boolean;
      executionOrder: number;
    };

export type DefinitionCommand =
  | { type: 'PublishDefinition'; definition: ProcessDefinition; source?: string }
  | { type: 'ActivateDefinition'; key: string }
  | { type: 'DeactivateDefinition'; key: string }
  | { type: 'ChangeExecutionOrder'; key: string; executionOrder: number };

export class DefinitionNotFound extends DomainError {
  readonly code = 'DEFINITION.NOT_FOUND';
  readonly family = 'not-found' as const;
}
export class InvalidExecutionOrder extends DomainError {
  readonly code = 'DEFINITION.INVALID_EXECUTION_ORDER';
  readonly family = 'validation' as const;
}

export const initialDefinitionState = (): DefinitionState => ({ status: 'none' });

/** The definition stream's decider, for the command pipeline (its decisions need no context). */
export const definitionDecider: Decider<DefinitionState, DefinitionCommand, DefinitionEvent, void> = {
  initialState: initialDefinitionState,
  evolve: (state, event) => evolveDefinition(state, event),
  decide: (state, command) => decideDefinition(state, command),
};

export function evolveDefinition(state: DefinitionState, event: DefinitionEvent): DefinitionState {
  switch (event.type) {
    case 'DefinitionPublished': {
      const d = event.data.definition;
      return {
        status: 'published',
        key: event.data.key,
        latestVersion: event.data.version,
        latest: d,
        enabled: d.enabled,
        executionOrder: d.executionOrder,
      };
    }
    case 'DefinitionActivated':
      return state.status === 'published' ? { ...state, enabled: true } : state;
    case 'DefinitionDeactivated':
      return state.status === 'published' ? { ...state, enabled: false } : state;
    case 'ExecutionOrderChanged':
      return state.status === 'published' ? { ...state, executionOrder: event.data.executionOrder } : state;
    default: {
      const unknown: never = event;
      throw new Error(`Unknown definition event ${JSON.stringify(unknown)}`);
    }
  }
}

/** Canonical JSON (keys sorted) so that republishing the same document is recognised. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );

export function decideDefinition(state: DefinitionState, command: DefinitionCommand): DefinitionEvent[] {
  switch (command.type) {
    case 'PublishDefinition': {
      const key = command.definition.key;
      if (state.status === 'published' && canonical(state.latest) === canonical(command.definition)) {
        return []; // the same document again: no new version
      }
      const version = state.status === 'published' ? state.latestVersion + 1 : 1;
      return [
        {
          type: 'DefinitionPublished',
          data: { key, version, definition: command.definition, ...(command.source ? { source: command.source } : {}) },
        },
      ];
    }
    case 'ActivateDefinition':
      if (state.status === 'none') throw new DefinitionNotFound(`No definition ${command.key}`);
      return state.enabled ? [] : [{ type: 'DefinitionActivated', data: { key: state.key } }];
    case 'DeactivateDefinition':
      if (state.status === 'none') throw new DefinitionNotFound(`No definition ${command.key}`);
      return state.enabled ? [{ type: 'DefinitionDeactivated', data: { key: state.key } }] : [];
    case 'ChangeExecutionOrder':
      if (state.status === 'none') throw new DefinitionNotFound(`No definition ${command.key}`);
      if (!Number.isInteger(command.executionOrder)) {
        throw new InvalidExecutionOrder('executionOrder must be an integer');
      }
      return state.executionOrder === command.executionOrder
        ? []
        : [{ type: 'ExecutionOrderChanged', data: { key: state.key, executionOrder: command.executionOrder } }];
    default: {
      const unknown: never = command;
      throw new Error(`Unknown definition command ${JSON.stringify(unknown)}`);
    }
  }
}
