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

/** The duration is well formed but lands past 9999-12-31 (a definition published before durations were bounded). */
export class DurationOutOfRange extends DomainError {
  readonly code = 'DURATION.OUT_OF_RANGE';
  readonly family = 'validation' as const;
  constructor(
    readonly text: string,
    readonly from: string,
  ) {
    super(`${from} plus '${text}' is past 9999-12-31T23:59:59.999Z`, { duration: text, from });
  }
}
