import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore, type StoreTx } from '@lifeline/event-store';
import { DefinitionNotFound } from '@lifeline/process-domain';
import { invoiceApproval, T0 } from '@lifeline/testing';
import { FakeClock } from '../shared/clock';
import { DefinitionCatalog, type StreamReader } from './definition-catalog';
import { DefinitionCommands } from './definition-commands';

const KEY = 'invoice-approval';

/** The unit as the catalog sees it, counting the streams it reads. */
function counted(tx: StoreTx): { io: StreamReader; reads: () => number } {
  let reads = 0;
  const io: StreamReader = {
    readStream: (streamId, options) => {
      reads++;
      return tx.readStream(streamId, options);
    },
    onCommit: (listener) => tx.onCommit(listener),
    get appended() {
      return tx.appended;
    },
  };
  return { io, reads: () => reads };
}

describe('the definition catalog inside units of work (SQLite store)', () => {
  let dir: string;
  let store: SqliteEventStore;
  let catalog: DefinitionCatalog;
  const commands = new DefinitionCommands(new FakeClock(T0));
  const publish = (tx: StoreTx, name: string) =>
    commands.publish(tx, JSON.stringify({ ...invoiceApproval(), name }), 'application/json', 'root');

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-catalog-'));
    store = SqliteEventStore.open(join(dir, 'events.db'));
    catalog = new DefinitionCatalog();
    await store.unitOfWork((tx) => publish(tx, 'Invoice approval'));
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads a version once per unit, and not at all after the unit committed', async () => {
    const inFirst = await store.unitOfWork(async (tx) => {
      const unit = counted(tx);
      // A post of many records starts the same version many times in one unit.
      for (let i = 0; i < 3; i++) expect((await catalog.version(unit.io, KEY, 1)).name).toBe('Invoice approval');
      // Not shared beyond the unit before it commits.
      expect(catalog.cached(KEY, 1)).toBeUndefined();
      return unit.reads();
    });
    expect(inFirst).toBe(1);
    expect(catalog.cached(KEY, 1)?.name).toBe('Invoice approval');
    const inSecond = await store.unitOfWork(async (tx) => {
      const unit = counted(tx);
      await catalog.version(unit.io, KEY, 1);
      return unit.reads();
    });
    expect(inSecond).toBe(0);
  });

  it('does not remember a version the unit published itself and then undid', async () => {
    await store.unitOfWork(async (tx) => {
      const unit = counted(tx);
      await expect(
        tx.attempt(async () => {
          expect((await publish(tx, 'Invoice approval, second')).version).toBe(2);
          expect((await catalog.version(unit.io, KEY, 2)).name).toBe('Invoice approval, second');
          throw new Error('undone');
        }),
      ).rejects.toThrow('undone');
      await expect(catalog.version(unit.io, KEY, 2)).rejects.toBeInstanceOf(DefinitionNotFound);
      expect((await catalog.version(unit.io, KEY, 1)).name).toBe('Invoice approval');
    });
    expect(catalog.cached(KEY, 2)).toBeUndefined();
  });

  it('forgets what a unit read when the unit fails', async () => {
    await expect(
      store.unitOfWork(async (tx) => {
        await catalog.version(counted(tx).io, KEY, 1);
        throw new Error('failed');
      }),
    ).rejects.toThrow('failed');
    expect(catalog.cached(KEY, 1)).toBeUndefined();
  });
});
