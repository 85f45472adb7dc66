import { DomainError } from '@lifeline/process-domain';

export class Forbidden extends DomainError {
  readonly code = 'AUTH.FORBIDDEN';
  readonly family = 'forbidden' as const;
}
export class NotFound extends DomainError {
  readonly code: string;
  readonly family = 'not-found' as const;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}
export class RequestInvalid extends DomainError {
  readonly code: string;
  readonly family = 'validation' as const;
  constructor(code: string, message: string, details?: unknown) {
    super(message, details);
    this.code = code;
  }
}
export class Conflict extends DomainError {
  readonly code: string;
  readonly family = 'conflict' as const;
  constructor(code: string, message: string, details?: unknown) {
    super(message, details);
    this.code = code;
  }
}
