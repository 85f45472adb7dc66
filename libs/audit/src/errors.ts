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

/**
 * The server cannot take an as-of query now (not a fault of the request): answered 503 with
 * Retry-After. Not a DomainError: its families are the request's faults.
 */
export abstract class AsOfUnavailable extends Error {
  abstract readonly code: string;
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Every as-of worker is busy and the queue is full. */
export class AsOfBusy extends AsOfUnavailable {
  readonly code = 'AUDIT.BUSY';
  constructor(retryAfterSeconds: number) {
    super('Every as-of worker is busy and the queue is full; try again later', retryAfterSeconds);
  }
}

/** An as-of query waited in the queue longer than allowed. */
export class AsOfQueueTimeout extends AsOfUnavailable {
  readonly code = 'AUDIT.AS_OF_TIMEOUT';
  constructor(waitedMs: number, retryAfterSeconds: number) {
    super(`The as-of query waited ${waitedMs} ms for a worker; try again later`, retryAfterSeconds);
  }
}

/** The server is stopping: as-of queries still waiting or running are not answered. */
export class AsOfPoolClosed extends AsOfUnavailable {
  readonly code = 'AUDIT.AS_OF_CLOSED';
  constructor() {
    super('The server is stopping; as-of queries are no longer answered', 5);
  }
}

/** An as-of worker failed on something other than the request (it stopped, or the store could not be read). */
export class AsOfWorkerFailed extends Error {
  readonly code = 'AUDIT.AS_OF_FAILED';
  constructor(message: string) {
    super(message);
    this.name = 'AsOfWorkerFailed';
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
