import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { signToken } from '../../api/src/auth/jwt';
import { CliUsageError, type CliIo } from './io';
import { dataDirOf } from './store';
import type { Run } from './run';

/** `lifeline token`: a JWT (HS256) for the API, signed with the server's secret. */
export function registerToken(program: Command, io: CliIo, run: Run): void {
  program
    .command('token')
    .description('Sign an API token (HS256) with --secret, LIFELINE_JWT_SECRET or <data-dir>/dev-jwt-secret')
    .argument('<sub>', 'the user id')
    .option('--roles <roles>', 'comma-separated roles, e.g. admin or accounting,ingest', '')
    .option('--secret <secret>', 'the signing secret')
    .option('--expires-in <duration>', 'e.g. 1h, 30d', '30d')
    .action((sub: string, options: { roles: string; secret?: string; expiresIn: string }, command: Command) =>
      run(async () => {
        const secret =
          options.secret ??
          (io.env.LIFELINE_JWT_SECRET || undefined) ??
          devSecret(dataDirOf(command.optsWithGlobals<{ dataDir?: string }>().dataDir, io));
        const roles = options.roles
          .split(',')
          .map((r) => r.trim())
          .filter(Boolean);
        // jsonwebtoken's expiresIn type is a template-literal union; the text is checked by jsonwebtoken itself.
        io.stdout(signToken(secret, sub, roles, options.expiresIn as Parameters<typeof signToken>[3]) + '\n');
        return 0;
      }),
    );
}

function devSecret(dataDir: string): string {
  const file = join(dataDir, 'dev-jwt-secret');
  if (!existsSync(file))
    throw new CliUsageError(
      `No secret: pass --secret, set LIFELINE_JWT_SECRET, or point --data-dir at a data dir with dev-jwt-secret`,
    );
  return readFileSync(file, 'utf8').trim();
}
