import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineRuntime } from '@lifeline/engine';
import { DEMO_USERS, signToken } from '@lifeline/api';

/** Where the example definitions live (beside src/ in the source tree and in dist/). */
export const DEMO_DIR = join(__dirname, '..', 'demo');

/** Publishes the example definitions; publishing an unchanged document records nothing. */
export async function loadDemoDefinitions(
  engine: EngineRuntime,
): Promise<{ key: string; version: number; changed: boolean }[]> {
  const files = readdirSync(DEMO_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  const results = [];
  for (const file of files) {
    const text = readFileSync(join(DEMO_DIR, file), 'utf8');
    const result = await engine.definitions.publish(text, 'application/yaml', 'system');
    results.push({ key: result.key, version: result.version, changed: result.changed });
  }
  return results;
}

/** Ready tokens for the demo users, also written to `<dataDir>/demo-tokens.json` for scripts. */
export function demoTokens(secret: string, dataDir: string): Record<string, string> {
  const tokens = Object.fromEntries(DEMO_USERS.map((u) => [u.id, signToken(secret, u.id, u.roles)]));
  writeFileSync(join(dataDir, 'demo-tokens.json'), JSON.stringify(tokens, null, 2) + '\n', { mode: 0o600 });
  return tokens;
}
