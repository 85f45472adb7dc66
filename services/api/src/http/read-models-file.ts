import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/** Names the read-model file being served, after a rebuild switched to a new one. */
export const READ_MODELS_POINTER = 'read-models.current';

export function servedReadModelsFile(dataDir: string): string {
  const pointer = join(dataDir, READ_MODELS_POINTER);
  if (existsSync(pointer)) {
    const name = basename(readFileSync(pointer, 'utf8').trim());
    if (/^read-models[-\w.]*\.db$/.test(name) && existsSync(join(dataDir, name))) return join(dataDir, name);
  }
  return join(dataDir, 'read-models.db');
}
