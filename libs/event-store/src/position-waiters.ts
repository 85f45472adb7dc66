interface Waiter {
  position: number;
  /** What this waiter's target has reached, when it is not the position `reached` is called with. */
  current?: () => number;
  settle(caughtUp: boolean): void;
}

/**
 * Callers waiting until something (a subscription, the read models) reaches a log position: each resolves true
 * once `reached` says so, false at its timeout or at `cancel`. The owner checks whether it is already there.
 */
export class PositionWaiters {
  private readonly waiters = new Set<Waiter>();

  /** Resolves true once `position` is reached (by `current()`, when given), false after `timeoutMs`. */
  wait(position: number, timeoutMs: number, current?: () => number): Promise<boolean> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        position,
        ...(current !== undefined ? { current } : {}),
        settle: (caughtUp) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(caughtUp);
        },
      };
      const timer = setTimeout(() => waiter.settle(false), timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Settles true every waiter whose position is reached now that `position` is. */
  reached(position: number): void {
    for (const waiter of [...this.waiters]) {
      if (waiter.position <= (waiter.current === undefined ? position : waiter.current())) waiter.settle(true);
    }
  }

  /** Settles every waiter false (the owner stopped). */
  cancel(): void {
    for (const waiter of [...this.waiters]) waiter.settle(false);
  }
}
