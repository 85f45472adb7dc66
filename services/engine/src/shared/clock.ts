/** The clock port: the only source of "now" outside tests. */
export abstract class Clock {
  abstract now(): Date;
  nowIso(): string {
    return this.now().toISOString();
  }
}

export class SystemClock extends Clock {
  private lastMs = Number.NaN;
  private lastIso = '';

  now(): Date {
    return new Date();
  }

  /** The same text for the same millisecond: commands of one unit mostly run within one. */
  override nowIso(): string {
    const ms = Date.now();
    if (ms !== this.lastMs) {
      this.lastIso = new Date(ms).toISOString();
      this.lastMs = ms;
    }
    return this.lastIso;
  }
}

/** A clock tests advance by hand; nothing sleeps for a timer. */
export class FakeClock extends Clock {
  private current: number;
  constructor(start: string | Date = '2026-11-21T10:00:00.000Z') {
    super();
    this.current = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current += ms;
  }
  set(at: string | Date): void {
    this.current = new Date(at).getTime();
  }
}
