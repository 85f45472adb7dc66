import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { userIdProblem } from '@lifeline/process-domain';
import { CliUsageError, type CliIo } from './io';
import { dataDirOf } from './store';
import type { Run } from './run';

/** `lifeline token`: a JWT (HS256) for the API, signed with the server's secret, living at most the server's cap. */
export function registerToken(program: Command, io: CliIo, run: Run): void {
  program
    .command('token')
    .description(
      'Sign an API token (HS256) with --secret, LIFELINE_JWT_SECRET or <data-dir>/dev-jwt-secret; ' +
        'it lives at most LIFELINE_TOKEN_MAX_LIFETIME (default 24h)',
    )
    .argument('<sub>', 'the user id (not "system": that is the engine)')
    .option('--roles <roles>', 'comma-separated roles, e.g. admin or accounting,ingest', '')
    .option('--secret <secret>', 'the signing secret')
    .option(
      '--expires-in <duration>',
      'seconds, 30m, 12h, or an ISO-8601 duration (PT12H); default and maximum: LIFELINE_TOKEN_MAX_LIFETIME',
    )
    .action((sub: string, options: { roles: string; secret?: string; expiresIn?: string }, command: Command) =>
      run(async () => {
        // Loaded here, not at the top: every other command would otherwise load the whole API and engine.
        const [{ signToken }, engine] = await Promise.all([import('@lifeline/api'), import('@lifeline/engine')]);
        const { parseLifetime } = engine;
        const problem = userIdProblem(sub);
        if (problem) throw new CliUsageError(`Cannot sign a token for ${JSON.stringify(sub)}: ${problem}`);
        const cap = maxLifetime(io.env, engine);
        const lifetime = options.expiresIn === undefined ? cap : parseLifetime(options.expiresIn);
        if (lifetime === undefined) {
          throw new CliUsageError(
            `--expires-in ${options.expiresIn}: give seconds (3600), a short form (30m, 12h, 1d) or an ISO-8601 duration (PT12H)`,
          );
        }
        if (lifetime > cap) {
          throw new CliUsageError(
            `--expires-in ${options.expiresIn} is ${lifetime} s, beyond the ${cap} s the server accepts ` +
              `(LIFELINE_TOKEN_MAX_LIFETIME); the server would refuse this token`,
          );
        }
        const secret =
          options.secret ??
          (io.env.LIFELINE_JWT_SECRET || undefined) ??
          devSecret(dataDirOf(command.optsWithGlobals<{ dataDir?: string }>().dataDir, io));
        const roles = options.roles
          .split(',')
          .map((r) => r.trim())
          .filter(Boolean);
        io.stdout(signToken(secret, sub, roles, lifetime) + '\n');
        return 0;
      }),
    );
}

/** The server's cap, read from the same variable by the same rule (README: Configuration). */
function maxLifetime(
  env: NodeJS.ProcessEnv,
  { tokenMaxLifetime, ConfigInvalid }: Pick<typeof import('@lifeline/engine'), 'tokenMaxLifetime' | 'ConfigInvalid'>,
): number {
  try {
    return tokenMaxLifetime(env.LIFELINE_TOKEN_MAX_LIFETIME);
  } catch (error) {
    if (error instanceof ConfigInvalid) throw new CliUsageError(error.message);
    throw error;
  }
}

function devSecret(dataDir: string): string {
  const file = join(dataDir, 'dev-jwt-secret');
  if (!existsSync(file))
    throw new CliUsageError(
      `No secret: pass --secret, set LIFELINE_JWT_SECRET, or point --data-dir at a data dir with dev-jwt-secret`,
    );
  return readFileSync(file, 'utf8').trim();
}
