import { DomainError } from '@lifeline/process-domain';

/** `asOf` is neither a global position nor an ISO-8601 instant. */
export class AsOfInvalid extends DomainError {
  readonly code = 'AUDIT.INVALID_AS_OF';
  readonly family = 'validation' as const;
}

/** An as-of rebuild would read more events than allowed (it runs inside a request). */
export class AsOfTooLarge extends DomainError {
  readonly code = 'AUDIT.AS_OF_TOO_LARGE';
  readonly family = 'validation' as const;
  constructor(
    readonly events: number,
    readonly limit: number,
  ) {
    super(`An as-of view would replay more than ${limit} events`, { events, limit });
  }
}

export class UnknownReadModel extends DomainError {
  readonly code = 'AUDIT.UNKNOWN_READ_MODEL';
  readonly family = 'validation' as const;
  constructor(
    readonly readModel: string,
    readonly known: string[],
  ) {
    super(`No read model ${readModel}; known: ${known.join(', ')}`, { known });
  }
}

export class ExportSubjectInvalid extends DomainError {
  readonly code = 'AUDIT.INVALID_SUBJECT';
  readonly family = 'validation' as const;
}
