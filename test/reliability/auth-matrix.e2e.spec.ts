import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { startLifeline, TEST_SECRET, type RunningLifeline } from '@lifeline/testing';

/**
 * The full authorization matrix: every route of services/api/src/**\/*.controller.ts × every kind of
 * caller, one table-driven test. Each cell gets a fresh task (and its instance), so an allowed action
 * in one cell never changes what the next cell sees. A denied answer must carry no task, instance or
 * record data, and a 404 must be exactly the answer for an id that does not exist (no existence oracle).
 */

const SECRET_FIELD = 'zebra-umbrella-42';
const SECRET_VARIABLE = 'kestrel-7731';
const TASK_TITLE = 'Inspect the vault';

const DEFINITION = {
  key: 'auth-vault',
  name: 'Vault inspection',
  relatedEntity: 'Vault',
  triggers: [{ on: 'created' }],
  start: 'stamp',
  activities: {
    stamp: { type: 'automatic', set: { code: `"${SECRET_VARIABLE}"` }, next: 'inspect' },
    inspect: { type: 'human', title: TASK_TITLE, assignee: { role: 'keepers' }, results: ['Done'], next: 'done' },
    done: { type: 'end' },
  },
};

type Caller =
  | 'no token'
  | 'expired token'
  | 'wrong signature'
  | 'alg none'
  | 'no exp'
  | '30-day token'
  | 'engine name'
  | 'no roles'
  | 'another user'
  | 'assignee'
  | 'role member'
  | 'colleague'
  | 'admin';
const CALLERS: Caller[] = [
  'no token',
  'expired token',
  'wrong signature',
  'alg none',
  'no exp',
  '30-day token',
  'engine name',
  'no roles',
  'another user',
  'assignee',
  'role member',
  'colleague',
  'admin',
];
/** Refused before any route: no, bad or over-long tokens, and the engine's own name as a subject. */
const INVALID: Caller[] = [
  'no token',
  'expired token',
  'wrong signature',
  'alg none',
  'no exp',
  '30-day token',
  'engine name',
];

/**
 * What a cell expects: refused (401 bad token, 403 a role or a task right it lacks, 404 not its to see,
 * 409 a colleague holds the task), or let through (a 2xx, or one of the business answers listed).
 */
type Expected = { deny: 401 | 403 | 404 | 409 } | { allow: number[] };

/**
 * Who may call a route. `task`: reads of the task, its instance and record (assignee, role member of an
 * unassigned task, admin); `task-command`: the same people act on it; `task-assignee`: only its holder;
 * `overview`: the roles admin and auditor.
 */
type Access = 'public' | 'signed-in' | 'task' | 'task-command' | 'task-assignee' | 'ingest' | 'admin' | 'overview';

interface Fixture {
  taskId: string;
  instanceId: string;
  entityId: string;
}

interface Route {
  method: string;
  path: (f: Fixture) => string;
  access: Access;
  body?: (f: Fixture) => unknown;
  /** Business answers that still mean "authorized" for this route (e.g. 409 releasing an unclaimed task). */
  alsoAllowed?: number[];
  /** Allowed, but the caller must not see the fixture in the answer unless they may see the task. */
  filtered?: boolean;
  streaming?: boolean;
}

let counter = 0;
const NO_WEBHOOK = '00000000-0000-4000-8000-000000000000';
const NO_DELIVERY = 'msg_00000000000000000000000000000000';
const ROUTES: Route[] = [
  { method: 'GET', path: () => '/health', access: 'public' },
  { method: 'GET', path: () => '/health/live', access: 'public' },
  { method: 'GET', path: () => '/health/ready', access: 'public' },
  { method: 'GET', path: () => '/metrics', access: 'public' },
  { method: 'GET', path: () => '/auth/demo-users', access: 'public' },
  { method: 'GET', path: () => '/auth/me', access: 'signed-in' },
  { method: 'GET', path: () => '/live', access: 'signed-in', streaming: true },
  { method: 'GET', path: () => '/tasks', access: 'signed-in', filtered: true },
  // The task list as it was (every task, replayed from the whole log): admins and auditors only.
  { method: 'GET', path: () => '/tasks?asOf=999999999', access: 'overview' },
  { method: 'GET', path: (f) => `/tasks/${f.taskId}`, access: 'task' },
  { method: 'POST', path: (f) => `/tasks/${f.taskId}/claim`, access: 'task-command', alsoAllowed: [409] },
  { method: 'POST', path: (f) => `/tasks/${f.taskId}/release`, access: 'task-command', alsoAllowed: [409] },
  {
    method: 'POST',
    path: (f) => `/tasks/${f.taskId}/reassign`,
    access: 'task-assignee',
    body: () => ({ role: 'keepers' }),
    alsoAllowed: [409],
  },
  {
    method: 'POST',
    path: (f) => `/tasks/${f.taskId}/postpone`,
    access: 'task-command',
    body: () => ({ until: '2026-11-22T10:00:00Z' }),
    alsoAllowed: [409],
  },
  {
    method: 'POST',
    path: (f) => `/tasks/${f.taskId}/complete`,
    access: 'task-command',
    body: () => ({ result: 'Done' }),
    alsoAllowed: [409],
  },
  { method: 'GET', path: () => '/definitions', access: 'signed-in' },
  { method: 'GET', path: () => '/definitions/auth-vault', access: 'signed-in' },
  { method: 'GET', path: () => '/definitions/auth-vault/bpmn', access: 'signed-in' },
  { method: 'GET', path: () => '/definitions/auth-vault/heatmap', access: 'signed-in' },
  {
    method: 'POST',
    path: () => '/definitions',
    access: 'admin',
    body: () => ({ ...DEFINITION, key: `auth-matrix-${++counter}`, relatedEntity: 'Spare' }),
  },
  { method: 'POST', path: () => '/definitions/auth-spare/deactivate', access: 'admin', alsoAllowed: [409] },
  { method: 'POST', path: () => '/definitions/auth-spare/activate', access: 'admin', alsoAllowed: [409] },
  { method: 'PATCH', path: () => '/definitions/auth-spare', access: 'admin', body: () => ({ executionOrder: 7 }) },
  {
    method: 'POST',
    path: () => '/definitions/auth-spare/migrate',
    access: 'admin',
    body: () => ({ fromVersion: 1, toVersion: 2, mapping: {}, dryRun: true }),
    // auth-spare has one version: an admin is let in and told v2 does not exist.
    alsoAllowed: [404],
  },
  {
    method: 'POST',
    path: () => '/entity-events',
    access: 'ingest',
    body: () => ({
      id: `auth-extra-${++counter}`,
      entityType: 'Spare',
      entityId: `S-${counter}`,
      kind: 'created',
      occurredAt: '2026-11-21T10:00:00Z',
      data: {},
    }),
  },
  {
    method: 'POST',
    path: () => '/instances',
    access: 'admin',
    body: (f) => ({ definitionKey: 'auth-vault', entity: { type: 'Vault', id: f.entityId }, variables: {} }),
  },
  // Need to know: instances and record timelines are for those with a task in them, admins and auditors.
  { method: 'GET', path: () => '/instances', access: 'signed-in', filtered: true },
  { method: 'GET', path: (f) => `/instances/${f.instanceId}`, access: 'task' },
  { method: 'GET', path: (f) => `/instances/${f.instanceId}?asOf=999999999`, access: 'task' },
  { method: 'GET', path: (f) => `/instances/${f.instanceId}/history`, access: 'task' },
  { method: 'POST', path: (f) => `/instances/${f.instanceId}/suspend`, access: 'admin' },
  { method: 'POST', path: (f) => `/instances/${f.instanceId}/resume`, access: 'admin', alsoAllowed: [409] },
  { method: 'POST', path: (f) => `/instances/${f.instanceId}/terminate`, access: 'admin' },
  {
    method: 'POST',
    path: (f) => `/instances/${f.instanceId}/incidents/no-such-incident/retry`,
    access: 'admin',
    alsoAllowed: [400, 404, 409],
  },
  { method: 'GET', path: (f) => `/entities/Vault/${f.entityId}/timeline`, access: 'task' },
  // Failed starts: listed for admins and auditors, retried by admins (no such failure here: 404).
  { method: 'GET', path: () => '/start-failures', access: 'admin' },
  { method: 'POST', path: (f) => `/start-failures/${f.instanceId}/retry`, access: 'admin', alsoAllowed: [404] },
  // Webhooks: admins subscribe and manage; the lists are admins' and auditors' (no such webhook here: 404).
  {
    method: 'POST',
    path: () => '/webhooks',
    access: 'admin',
    body: () => ({ url: 'http://127.0.0.1:9/auth-matrix', events: ['InstanceTerminated'] }),
  },
  { method: 'GET', path: () => '/webhooks', access: 'admin' },
  { method: 'GET', path: () => `/webhooks/${NO_WEBHOOK}`, access: 'admin', alsoAllowed: [404] },
  { method: 'DELETE', path: () => `/webhooks/${NO_WEBHOOK}`, access: 'admin', alsoAllowed: [404] },
  { method: 'GET', path: () => `/webhooks/${NO_WEBHOOK}/deliveries`, access: 'admin', alsoAllowed: [404] },
  {
    method: 'POST',
    path: () => `/webhooks/${NO_WEBHOOK}/deliveries/${NO_DELIVERY}/redeliver`,
    access: 'admin',
    alsoAllowed: [404],
  },
  // Task mails (LIFELINE_SMTP_URL is not set here: 404 MAIL.NOT_CONFIGURED for admins).
  { method: 'GET', path: () => '/admin/mails', access: 'admin', alsoAllowed: [404] },
  { method: 'POST', path: (f) => `/admin/mails/${f.taskId}/resend`, access: 'admin', alsoAllowed: [404] },
  // Job workers (role worker; no caller here has it but admin): no job is offered, an instance id names no job (404).
  {
    method: 'POST',
    path: () => '/jobs/fetch-and-lock',
    access: 'admin',
    body: () => ({ workerId: 'auth-worker', types: ['auth-none'], lockDurationMs: 1000 }),
  },
  ...Object.entries({
    heartbeat: { lockDurationMs: 1000 },
    complete: {},
    fail: { error: 'down' },
    error: { code: 'DECLINED' },
  }).map(([what, body]): Route => ({
    method: 'POST',
    path: (f) => `/jobs/${f.instanceId}/${what}`,
    access: 'admin',
    body: () => ({ workerId: 'auth-worker', ...body }),
    alsoAllowed: [404],
  })),
  { method: 'GET', path: () => '/jobs', access: 'overview' },
  { method: 'GET', path: (f) => `/jobs/${f.instanceId}`, access: 'overview', alsoAllowed: [404] },
  { method: 'POST', path: (f) => `/jobs/${f.instanceId}/retry`, access: 'admin', alsoAllowed: [404] },
  // Last: a rebuild swaps the served read-model file.
  { method: 'POST', path: () => '/admin/read-models/rebuild', access: 'admin', alsoAllowed: [409] },
];

/** `METHOD /path` of every handler in services/api/src/**\/*.controller.ts, parameters written `:p`. */
function controllerRoutes(dir: string): string[] {
  const routes: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.controller.ts')) continue;
    const text = readFileSync(join(entry.parentPath, entry.name), 'utf8');
    const prefix = /@Controller\((?:'([^']*)')?\)/.exec(text)?.[1] ?? '';
    for (const [, method, sub] of text.matchAll(/@(Get|Post|Put|Patch|Delete)\((?:'([^']*)')?\)/g)) {
      const path = ['', prefix, sub ?? ''].filter((part, i) => i === 0 || part !== '').join('/');
      routes.push(`${method!.toUpperCase()} ${(path || '/').replace(/:\w+/g, ':p')}`);
    }
  }
  return [...new Set(routes)].sort();
}

/** A route's path with the fixture's ids and names written as parameters (the query left out). */
function routePattern(route: Route): string {
  return route
    .path({ taskId: ':id', instanceId: ':id', entityId: ':id' })
    .replace(/\?.*$/, '')
    .replace(/\/(auth-vault|auth-spare)\b/, '/:key')
    .replace('/no-such-incident/', '/:incidentId/')
    .replace('/entities/Vault/', '/entities/:type/')
    .replace(NO_WEBHOOK, ':id')
    .replace(NO_DELIVERY, ':deliveryId')
    .replace(/:\w+/g, ':p');
}

function expected(route: Route, caller: Caller): Expected {
  if (route.access === 'public') return { allow: [] };
  if (INVALID.includes(caller)) return { deny: 401 };
  if (caller === 'admin' || route.access === 'signed-in') return { allow: route.alsoAllowed ?? [] };
  if (route.access === 'ingest' || route.access === 'admin' || route.access === 'overview') return { deny: 403 };
  const sees = caller === 'assignee' || caller === 'role member';
  if ((route.access === 'task' || route.access === 'task-command') && sees) return { allow: route.alsoAllowed ?? [] };
  // A member of the task's role may still act on it, and learns a colleague holds it (as in a claim race).
  if (route.access === 'task-command' && caller === 'colleague') return { deny: 409 };
  // The API's rule (README): a task is reassigned by its assignee or an admin; its role members see it is theirs.
  if (route.access === 'task-assignee') {
    if (caller === 'assignee') return { allow: route.alsoAllowed ?? [] };
    if (caller === 'role member' || caller === 'colleague') return { deny: 403 };
  }
  // Anything else about the task, its instance or its record: exactly as if it did not exist.
  return { deny: 404 };
}

describe('authorization matrix: every route × every caller is allowed or refused as documented, and refusals leak nothing', () => {
  let lifeline: RunningLifeline;
  const now = Math.floor(Date.parse('2026-11-21T10:00:00Z') / 1000);
  const tokenOf = (caller: Caller): string | null => {
    switch (caller) {
      case 'no token':
        return null;
      case 'expired token':
        return jwt.sign({ sub: 'admin', roles: ['admin'], exp: now - 3600, iat: now - 7200 }, TEST_SECRET, {
          algorithm: 'HS256',
          noTimestamp: true,
        });
      case 'wrong signature':
        return jwt.sign({ sub: 'admin', roles: ['admin'] }, 'another-secret-0123456789abcdef0123', {
          algorithm: 'HS256',
        });
      case 'alg none':
        return jwt.sign({ sub: 'admin', roles: ['admin'] }, '', { algorithm: 'none' });
      case 'no exp':
        return jwt.sign({ sub: 'admin', roles: ['admin'] }, TEST_SECRET, { algorithm: 'HS256' });
      case '30-day token':
        return jwt.sign({ sub: 'admin', roles: ['admin'] }, TEST_SECRET, { algorithm: 'HS256', expiresIn: '30d' });
      case 'engine name':
        // The engine's own actor name, no roles: it once counted as admin everywhere.
        return jwt.sign({ sub: 'system', roles: [] }, TEST_SECRET, { algorithm: 'HS256', expiresIn: '1h' });
      case 'no roles':
        return lifeline.token('nobody', []);
      case 'another user':
        return lifeline.token('outsider', ['accounting']);
      case 'assignee':
        return lifeline.token('keeper-a', ['keepers']);
      case 'role member':
      case 'colleague':
        return lifeline.token('keeper-b', ['keepers']);
      case 'admin':
        return lifeline.tokens.admin!;
    }
  };

  beforeAll(async () => {
    lifeline = await startLifeline({ demo: false });
    expect((await lifeline.call('admin', 'POST', '/definitions', DEFINITION)).status).toBe(201);
    // Activated and deactivated by the matrix: a definition nothing else depends on.
    expect(
      (
        await lifeline.call('admin', 'POST', '/definitions', {
          ...DEFINITION,
          key: 'auth-spare',
          relatedEntity: 'Spare',
        })
      ).status,
    ).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await lifeline?.stop();
  });

  /** Ids of nothing: what a 404 for something hidden must look exactly like. */
  const ghost = (): Fixture => {
    const instanceId = randomUUID();
    return { taskId: `${instanceId}.inspect.1`, instanceId, entityId: `V-none-${++counter}` };
  };

  /** A fresh vault record, its instance and its task; claimed by the assignee unless the role member is to act on it. */
  async function freshFixture(caller: Caller): Promise<Fixture> {
    const entityId = `V-${++counter}`;
    const recorded = await lifeline.call('app', 'POST', '/entity-events', {
      id: `auth-vault-${entityId}`,
      entityType: 'Vault',
      entityId,
      kind: 'created',
      occurredAt: '2026-11-21T10:00:00Z',
      data: { combination: `${SECRET_FIELD}-${entityId}` },
    });
    expect(recorded.status).toBe(202);
    await lifeline.settle();
    const tasks = (await lifeline.call('admin', 'GET', `/tasks?role=keepers&entityId=${entityId}`)).body.items as {
      id: string;
      instanceId: string;
    }[];
    expect(tasks).toHaveLength(1);
    const { id: taskId, instanceId } = tasks[0]!;
    if (caller !== 'role member') {
      expect(
        (await lifeline.call(lifeline.token('keeper-a', ['keepers']), 'POST', `/tasks/${taskId}/claim`)).status,
      ).toBe(200);
      await lifeline.settle();
    }
    return { taskId, instanceId, entityId };
  }

  async function send(route: Route, token: string | null, f: Fixture): Promise<{ status: number; text: string }> {
    const body = route.body?.(f);
    if (!route.streaming) {
      const answer = await lifeline.call(token, route.method, route.path(f), body);
      return {
        status: answer.status,
        text: typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body),
      };
    }
    // Server-sent events never end: read the status and the first chunk, then hang up.
    const abort = new AbortController();
    const response = await fetch(lifeline.url + route.path(f), {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: abort.signal,
    });
    const reader = response.body!.getReader();
    const first = await reader.read();
    abort.abort();
    return { status: response.status, text: new TextDecoder().decode(first.value ?? new Uint8Array()) };
  }

  const cells = ROUTES.flatMap((route) =>
    CALLERS.map(
      (caller) =>
        [
          `${route.method} ${route.path({ taskId: ':taskId', instanceId: ':instanceId', entityId: ':entityId' })}`,
          caller,
          route,
        ] as const,
    ),
  );

  it.each(cells)('%s as %s', async (_name, caller, route) => {
    const fixture = await freshFixture(caller);
    const outcome = expected(route, caller);
    const { status, text } = await send(route, tokenOf(caller), fixture);
    const secrets = [
      TASK_TITLE,
      `${SECRET_FIELD}-${fixture.entityId}`,
      SECRET_VARIABLE,
      fixture.instanceId,
      fixture.taskId,
    ];
    if ('deny' in outcome) {
      expect({ caller, status }).toEqual({ caller, status: outcome.deny });
      const code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
      const codes = {
        401: /^AUTH\./,
        // INSTANCE.START_FORBIDDEN: POST /instances for a definition whose startableBy names none of the caller's roles.
        403: /^AUTH\.FORBIDDEN$|^TASK\.NOT_ASSIGNABLE$|^INSTANCE\.START_FORBIDDEN$/,
        404: /^(TASK|INSTANCE|ENTITY)\.NOT_FOUND$/,
        409: /^TASK\.ALREADY_CLAIMED$/,
      };
      expect(code).toMatch(codes[outcome.deny]);
      expect(secrets.filter((secret) => text.includes(secret))).toEqual([]);
      if (outcome.deny === 404) {
        // No existence oracle: the same status, code and message as for ids of nothing.
        const nothing = await send(route, tokenOf(caller), ghost());
        expect({ caller, status, body: JSON.parse(text) }).toEqual({
          caller,
          status: nothing.status,
          body: JSON.parse(nothing.text),
        });
      }
    } else {
      const ok = (status >= 200 && status < 300) || outcome.allow.includes(status);
      expect({ caller, status, ok }).toEqual({ caller, status, ok: true });
      if (route.filtered && caller !== 'admin' && caller !== 'assignee' && caller !== 'role member') {
        // An allowed list still shows only what the caller may see. A colleague sees the role's other,
        // unclaimed vault tasks (left by earlier cells), so only this fixture's own ids must be absent.
        const mine = caller === 'colleague' ? [fixture.taskId, fixture.instanceId] : secrets;
        expect(mine.filter((secret) => text.includes(secret))).toEqual([]);
      }
    }
  });

  it('lists every route the API controllers declare', () => {
    const declared = controllerRoutes(join(__dirname, '../../services/api/src'));
    const tested = ROUTES.map((route) => `${route.method} ${routePattern(route)}`);
    expect([...new Set(tested)].sort()).toEqual(declared);
  });

  it('covers every cell of the matrix', () => {
    console.log(`authorization matrix: ${ROUTES.length} routes × ${CALLERS.length} callers = ${cells.length} cells`);
    expect(cells).toHaveLength(ROUTES.length * CALLERS.length);
  });
});
