import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineRuntime } from '@lifeline/engine';
import { DEMO_USERS, signToken, type DemoUser } from '@lifeline/api';

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

/** Where a development start writes the demo users' tokens for scripts (the README walkthrough). */
export const demoTokensFile = (dataDir: string): string => join(dataDir, 'demo-tokens.json');

/** The demo users with tokens signed now, living `lifetimeSeconds` (development secret only). */
export const issueDemoUsers = (secret: string, lifetimeSeconds: number): DemoUser[] =>
  DEMO_USERS.map((u) => ({ ...u, token: signToken(secret, u.id, u.roles, lifetimeSeconds) }));

/** Ready tokens for the demo users, also written to `<dataDir>/demo-tokens.json` for scripts. */
export function demoTokens(secret: string, dataDir: string, lifetimeSeconds: number): Record<string, string> {
  const tokens = Object.fromEntries(issueDemoUsers(secret, lifetimeSeconds).map((u) => [u.id, u.token]));
  writeFileSync(demoTokensFile(dataDir), JSON.stringify(tokens, null, 2) + '\n', { mode: 0o600 });
  return tokens;
}
