import { Injectable } from '@nestjs/common';
import type { ReadModels } from '@lifeline/read-models';
import { RequestInvalid } from './api-errors';

/** How long a query waits for `minPosition` before answering with what it has. */
export const MIN_POSITION_WAIT_MS = 5_000;

/** The read models the API queries, with read-your-writes through `?minPosition=`. */
@Injectable()
export class ReadSide {
  constructor(readonly models: ReadModels) {}

  get db() {
    return this.models.db;
  }

  /** Waits (bounded) until the read models reached `minPosition`; returns the position served. */
  async atLeast(minPosition: unknown): Promise<{ position: number; caughtUp: boolean }> {
    if (minPosition === undefined || minPosition === '') return { position: this.models.position(), caughtUp: true };
    const target = Number(minPosition);
    if (!Number.isSafeInteger(target) || target < 0) {
      throw new RequestInvalid('QUERY.INVALID_MIN_POSITION', 'minPosition must be a non-negative integer');
    }
    const caughtUp = await this.models.waitForPosition(target, MIN_POSITION_WAIT_MS);
    return { position: this.models.position(), caughtUp };
  }
}
