import { Injectable } from '@nestjs/common';
import type { ReadModels, ViewName } from '@lifeline/read-models';
import { RequestInvalid } from './api-errors';
import { POSITION } from './openapi';

/** How long a query waits for `minPosition` before answering with what it has. */
export const MIN_POSITION_WAIT_MS = 5_000;

/** The read models the API queries, with read-your-writes through `?minPosition=`. */
@Injectable()
export class ReadSide {
  /** `head` is the log's head position: no write a client saw can be beyond it, so waiting for more is pointless. */
  constructor(
    readonly models: ReadModels,
    private readonly head?: () => Promise<number>,
  ) {}

  get db() {
    return this.models.db;
  }

  /** Refuses (503 READ_MODEL.CATCHING_UP) when one of `views`, the projections a query reads, is still being built. */
  served(views: readonly ViewName[]): void {
    this.models.assertServed(...views);
  }

  /**
   * Refuses (503 READ_MODEL.CATCHING_UP) when one of `views` is still being built from the log, then waits (bounded)
   * until the read models reached `minPosition`; returns the position served.
   */
  async atLeast(minPosition: unknown, views: readonly ViewName[]): Promise<{ position: number; caughtUp: boolean }> {
    if (minPosition !== undefined && minPosition !== '') {
      if (typeof minPosition !== 'string' || !POSITION.test(minPosition)) {
        throw new RequestInvalid('QUERY.INVALID_MIN_POSITION', 'minPosition must be a non-negative integer');
      }
    }
    // Bad input is answered 400 first; a view still being built, 503.
    this.served(views);
    if (minPosition === undefined || minPosition === '')
      return { position: this.models.positionOf(views), caughtUp: true };
    const target = Number(minPosition);
    if (this.head && target > (await this.head())) return { position: this.models.positionOf(views), caughtUp: false };
    const caughtUp = await this.models.waitForPosition(target, MIN_POSITION_WAIT_MS, views);
    return { position: this.models.positionOf(views), caughtUp };
  }
}
