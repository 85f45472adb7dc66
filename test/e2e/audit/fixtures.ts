import type { RunningLifeline } from '@lifeline/testing';
import { type CliIo, runCli } from '@lifeline/cli';

export const invoice = (
  entityId: string,
  eventId: string,
  kind: 'created' | 'updated',
  data: Record<string, unknown>,
  changed?: string[],
) => ({
  id: eventId,
  entityType: 'Invoice',
  entityId,
  kind,
  occurredAt: '2026-11-21T10:00:00Z',
  data: { number: entityId, amount: 1200, status: 'New', ownerId: 'alice', ...data },
  ...(changed ? { changed } : {}),
});

export async function record(lifeline: RunningLifeline, envelope: ReturnType<typeof invoice>): Promise<number> {
  const posted = await lifeline.call('app', 'POST', '/entity-events', envelope);
  if (posted.status !== 202)
    throw new Error(`POST /entity-events answered ${posted.status}: ${JSON.stringify(posted.body)}`);
  return lifeline.settle();
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the `lifeline` command in-process, as a user at a shell with this environment. */
export async function cli(argv: string[], env: NodeJS.ProcessEnv = {}, cwd = process.cwd()): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env, cwd };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}
