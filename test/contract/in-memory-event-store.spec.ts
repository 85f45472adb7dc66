import { InMemoryEventStore } from '@lifeline/event-store';
import { eventStoreContract } from './event-store.contract';

// Each test opens the store again over the same events, as reopening a file would.
let current: InMemoryEventStore | undefined;

eventStoreContract('InMemoryEventStore', async () => {
  current = current === undefined ? new InMemoryEventStore() : current.reopen();
  return current;
});
