/** A wait that `wake()` cuts short; a wake while nobody waits is kept for the next wait. */
export class Waker {
  private pending = false;
  private release: (() => void) | undefined;
  wake(): void {
    if (this.release) this.release();
    else this.pending = true;
  }
  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.release = undefined;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.release = done;
    });
  }
}
