import {
  streams,
  type DefinitionEvent,
  type DefinitionPublished,
  type ProcessDefinition,
} from '@lifeline/process-domain';
import type { EventStore } from '@lifeline/event-store';
import { DefinitionNotFound } from '@lifeline/process-domain';

/**
 * Published definition versions, read from their streams. A version never changes once published,
 * so it is cached for good.
 */
export class DefinitionCatalog {
  private readonly versions = new Map<string, ProcessDefinition>();

  constructor(private readonly store: EventStore) {}

  async version(key: string, version: number): Promise<ProcessDefinition> {
    const cacheKey = `${key}@${version}`;
    const cached = this.versions.get(cacheKey);
    if (cached) return cached;
    const events = await this.store.readStream(streams.definition(key));
    for (const event of events) {
      if (event.type !== 'DefinitionPublished') continue;
      const data = (event as unknown as DefinitionPublished).data;
      this.versions.set(`${key}@${data.version}`, data.definition);
    }
    const found = this.versions.get(cacheKey);
    if (!found) throw new DefinitionNotFound(`No definition ${key} version ${version}`);
    return found;
  }

  /** The latest version and whether it is enabled, from the stream. */
  async latest(key: string): Promise<{ definition: ProcessDefinition; version: number; enabled: boolean } | undefined> {
    const events = await this.store.readStream(streams.definition(key));
    let latest: { definition: ProcessDefinition; version: number; enabled: boolean } | undefined;
    for (const stored of events) {
      const event = { type: stored.type, data: stored.data } as DefinitionEvent;
      if (event.type === 'DefinitionPublished') {
        latest = {
          definition: event.data.definition,
          version: event.data.version,
          enabled: event.data.definition.enabled,
        };
        this.versions.set(`${key}@${event.data.version}`, event.data.definition);
      } else if (latest && event.type === 'DefinitionActivated') latest.enabled = true;
      else if (latest && event.type === 'DefinitionDeactivated') latest.enabled = false;
    }
    return latest;
  }
}
