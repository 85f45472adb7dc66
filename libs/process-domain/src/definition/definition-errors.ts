import { DomainError } from '../errors';

export class InvalidDuration extends DomainError {
  readonly code = 'DURATION.INVALID';
  readonly family = 'validation' as const;
  constructor(readonly text: string) {
    super(`'${text}' is not an ISO-8601 duration such as P2D or PT10M`, { duration: text });
  }
}

export class InvalidInstant extends DomainError {
  readonly code = 'INSTANT.INVALID';
  readonly family = 'validation' as const;
  constructor(readonly text: string) {
    super(`'${text}' is not an ISO-8601 instant such as 2026-11-21T10:00:00Z`, { instant: text });
  }
}
