// Copies what tsc does not: the demo definitions and the web UI's assets.
import { cpSync, existsSync } from 'node:fs';
const copies = [
  ['services/embedded/demo', 'dist/services/embedded/demo'],
  ['services/api/web', 'dist/services/api/web'],
];
for (const [from, to] of copies) if (existsSync(from)) cpSync(from, to, { recursive: true });
