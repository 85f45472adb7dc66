import { decodeDefinitionEvent, DefinitionNotFound, streams, type ProcessDefinition } from '@lifeline/process-domain';
import type { StoreTx } from '@lifeline/event-store';

/** Where the catalog reads a definition stream: a unit of work (sees its own appends) or the store. */
export type StreamReader = Pick<StoreTx, 'readStream'> & {
  onCommit?(listener: () => void): void;
  readonly appended?: StoreTx['appended'];
};

export interface LatestDefinition {
  definition: ProcessDefinition;
  version: number;
  enabled: boolean;
}

/**
 * Published definition versions, read from their `definition-<key>` streams, the one source of
 * definitions. A version never changes once published, so it is cached for good, but only once the
 * read is durable: a version read inside a unit that rolls back must not outlive it.
 */
export class DefinitionCatalog {
  private readonly versions = new Map<string, ProcessDefinition>();
  /**
   * Versions a unit has read and that join `versions` when it commits, so its later starts do not read the stream
   * again (a first post of 500 after a start-up or a publish read it 500 times). Only versions the unit did not
   * append itself: a nested savepoint can undo the unit's own appends while the unit goes on; what another unit
   * of the same transaction appended goes only with the whole transaction, and this unit with it.
   */
  private readonly pending = new WeakMap<StreamReader, Map<string, ProcessDefinition>>();

  /** A version already read durably, without reading anything (undefined: call `version`). */
  cached(key: string, version: number): ProcessDefinition | undefined {
    return this.versions.get(`${key}@${version}`);
  }

  async version(io: StreamReader, key: string, version: number): Promise<ProcessDefinition> {
    const cached = this.cached(key, version) ?? this.pending.get(io)?.get(`${key}@${version}`);
    if (cached) return cached;
    const found = (await this.read(io, key)).get(version);
    if (!found) throw new DefinitionNotFound(`No definition ${key} version ${version}`);
    return found;
  }

  /** The latest version and whether it is enabled, from the stream. */
  async latest(io: StreamReader, key: string): Promise<LatestDefinition | undefined> {
    const events = await io.readStream(streams.definition(key));
    let latest: LatestDefinition | undefined;
    const seen = new Map<number, ProcessDefinition>();
    for (const stored of events) {
      const event = decodeDefinitionEvent(stored);
      if (event.type === 'DefinitionPublished') {
        latest = {
          definition: event.data.definition,
          version: event.data.version,
          enabled: event.data.definition.enabled,
        };
        seen.set(event.data.version, event.data.definition);
      } else if (latest && event.type === 'DefinitionActivated') latest.enabled = true;
      else if (latest && event.type === 'DefinitionDeactivated') latest.enabled = false;
    }
    this.remember(io, key, seen);
    return latest;
  }

  /** Reads the stream's versions; they join the cache once durable (at once outside a unit). */
  private async read(io: StreamReader, key: string): Promise<Map<number, ProcessDefinition>> {
    const found = new Map<number, ProcessDefinition>();
    for (const stored of await io.readStream(streams.definition(key))) {
      const event = decodeDefinitionEvent(stored);
      if (event.type === 'DefinitionPublished') found.set(event.data.version, event.data.definition);
    }
    this.remember(io, key, found);
    return found;
  }

  private remember(io: StreamReader, key: string, found: Map<number, ProcessDefinition>): void {
    const add = () => {
      for (const [version, definition] of found) this.versions.set(`${key}@${version}`, definition);
    };
    if (!io.onCommit) return add();
    io.onCommit(add);
    const stream = streams.definition(key);
    if (io.appended === undefined || io.appended.some((event) => event.streamId === stream)) return;
    let pending = this.pending.get(io);
    if (pending === undefined) this.pending.set(io, (pending = new Map()));
    for (const [version, definition] of found) pending.set(`${key}@${version}`, definition);
  }
}
