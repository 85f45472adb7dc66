import { decodeDefinitionEvent, DefinitionNotFound, streams, type ProcessDefinition } from '@lifeline/process-domain';
import type { StoreTx } from '@lifeline/event-store';

/** Where the catalog reads a definition stream: a unit of work (sees its own appends) or the store. */
export type StreamReader = Pick<StoreTx, 'readStream'> & { onCommit?(listener: () => void): void };

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

  /** A version already read durably, without reading anything (undefined: call `version`). */
  cached(key: string, version: number): ProcessDefinition | undefined {
    return this.versions.get(`${key}@${version}`);
  }

  async version(io: StreamReader, key: string, version: number): Promise<ProcessDefinition> {
    const cached = this.cached(key, version);
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
    if (io.onCommit) io.onCommit(add);
    else add();
  }
}
