import { minPosition } from './openapi';
import { queryInteger } from './validation';

/** Paging and read-your-writes, shared by the list queries (`z.strictObject({ ...PAGE_QUERY, … })`). */
export const PAGE_QUERY = {
  limit: queryInteger(1, 500).optional(),
  offset: queryInteger(0, 1_000_000_000).optional(),
  minPosition,
};
