import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLifeline, type RunningLifeline } from '@lifeline/testing';
import { BuiltServer, type Answer } from './built-server';

/**
 * BPMN files drawn by others (test/corpus/bpmn), published over HTTP as `application/bpmn+xml`: each importable one
 * is started by hand and driven to its end by a worker completing its jobs (and, for timers, a fake clock); each
 * refused one answers 400 DEFINITION.INVALID naming the elements expectations.json lists. Files without timers run on
 * the built server; files with timers in process on a FakeClock (no sleeping).
 */

const CORPUS = join(__dirname, '../corpus/bpmn');

type Step =
  | { start: { recordId: string } }
  | { job: string; variables?: Record<string, unknown> }
  | { advance: number }
  | { ended: string };

interface Expectation {
  why: string;
  import: { relatedEntity: string; key?: string; processId?: string };
  requires?: string[];
  definition?: { key: string };
  run?: Step[];
  /** `element: null`: an issue of the whole document (unreadable XML). */
  refused?: { element: string | null; code?: string; path?: string }[];
}

const expectations = JSON.parse(readFileSync(join(CORPUS, 'expectations.json'), 'utf8')) as Record<string, Expectation>;
const runs = Object.entries(expectations).filter(([, e]) => e.run);
const needsClock = (e: Expectation) => e.run!.some((step) => 'advance' in step);
const refused = Object.entries(expectations).filter(([, e]) => e.refused);

type Who = { sub: string; roles: string[] } | null;
/** What a run needs of a server, whichever one it is. */
interface Server {
  call(who: Who, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer>;
  /** Moves the fake clock and fires what fell due (only the in-process server has one). */
  advance?(ms: number): Promise<void>;
}

const ADMIN = { sub: 'ada', roles: ['admin'] };
const WORKER = { sub: 'corpus-worker', roles: ['worker'] };

const builtServer = (server: BuiltServer): Server => ({ call: (...args) => server.call(...args) });
const inProcess = (lifeline: RunningLifeline): Server => ({
  call: (who, method, path, body, headers) =>
    lifeline.call(who ? lifeline.token(who.sub, who.roles) : null, method, path, body, headers),
  advance: (ms) => lifeline.advance(ms),
});

function publish(server: Server, file: string, e: Expectation): Promise<Answer> {
  const query = new URLSearchParams(
    Object.entries(e.import).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  return server.call(ADMIN, 'POST', `/definitions?${query}`, readFileSync(join(CORPUS, file), 'utf8'), {
    'content-type': 'application/bpmn+xml',
  });
}

/** Asks until `done` holds: the instance's reactions (a child, a join) may land after the answer that caused them. */
async function until(ask: () => Promise<Answer>, done: (a: Answer) => boolean): Promise<Answer> {
  let answer = await ask();
  for (let i = 0; i < 100 && !done(answer); i++) {
    await new Promise((r) => setTimeout(r, 50));
    answer = await ask();
  }
  return answer;
}

async function run(server: Server, file: string, e: Expectation): Promise<void> {
  for (const required of e.requires ?? []) {
    expect((await publish(server, required, expectations[required]!)).status).toBe(201);
  }
  const published = await publish(server, file, e);
  expect(published.status).toBe(201);
  expect(published.body).toMatchObject({ key: e.definition!.key });

  let instanceId = '';
  let position = 0;
  for (const step of e.run!) {
    if ('start' in step) {
      const started = await server.call(ADMIN, 'POST', '/instances', {
        definitionKey: e.definition!.key,
        entity: { type: e.import.relatedEntity, id: step.start.recordId },
      });
      expect(started.status).toBe(201);
      ({ instanceId, position } = started.body);
    } else if ('job' in step) {
      const fetched = await server.call(WORKER, 'POST', '/jobs/fetch-and-lock', {
        workerId: 'corpus-worker',
        types: [step.job],
        lockDurationMs: 60_000,
        timeoutMs: 5_000,
      });
      expect(fetched.status).toBe(200);
      expect(fetched.body.jobs).toEqual([expect.objectContaining({ jobType: step.job, instanceId })]);
      const completed = await server.call(WORKER, 'POST', `/jobs/${fetched.body.jobs[0].jobId}/complete`, {
        workerId: 'corpus-worker',
        ...(step.variables ? { variables: step.variables } : {}),
      });
      expect(completed.status).toBe(200);
      position = completed.body.position;
    } else if ('advance' in step) {
      await server.advance!(step.advance);
    } else {
      const instance = await until(
        () => server.call(ADMIN, 'GET', `/instances/${instanceId}?minPosition=${position}`),
        (a) => a.body?.status === step.ended,
      );
      expect(instance.body).toMatchObject({ status: step.ended, definitionKey: e.definition!.key });
      expect(instance.body.positions ?? []).toEqual([]);
    }
  }
}

describe('real BPMN files on the built server', () => {
  let server: BuiltServer;
  beforeAll(async () => {
    server = await BuiltServer.start();
  });
  afterAll(async () => {
    await server.stop();
  });

  it.each(runs.filter(([, e]) => !needsClock(e)))(
    'given %s, when published as BPMN and started by hand, then its jobs completed by a worker end the instance',
    async (file, e) => {
      await run(builtServer(server), file, e);
    },
  );

  it.each(refused)(
    'given %s, when published as BPMN, then 400 DEFINITION.INVALID names exactly the refused elements',
    async (file, e) => {
      const answer = await publish(builtServer(server), file, e);
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe('DEFINITION.INVALID');
      const issues = answer.body.error.details as { code?: string; path?: string; element?: { id: string } }[];
      expect(issues.map((issue) => issue.element?.id ?? null).sort()).toEqual(e.refused!.map((r) => r.element).sort());
      for (const want of e.refused!) {
        const issue = issues.find((i) => (i.element?.id ?? null) === want.element)!;
        if (want.element !== null) {
          expect(issue.element).toEqual(expect.objectContaining({ id: want.element, type: expect.any(String) }));
        }
        if (want.code) expect(issue.code).toBe(want.code);
        if (want.path) expect(issue.path).toBe(want.path);
      }
    },
  );
});

describe('real BPMN files with timers, in process on a fake clock', () => {
  let lifeline: RunningLifeline;
  beforeEach(async () => {
    lifeline = await startLifeline({ demo: false });
  });
  afterEach(async () => {
    await lifeline.stop();
  });

  it.each(runs.filter(([, e]) => needsClock(e)))(
    'given %s, when published as BPMN and started by hand, then its jobs and its due timers end the instance',
    async (file, e) => {
      await run(inProcess(lifeline), file, e);
    },
  );
});
