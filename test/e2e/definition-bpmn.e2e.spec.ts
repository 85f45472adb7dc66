import type { ModdleElement } from 'bpmn-moddle';
import { createModdle } from '@lifeline/bpmn';
import { runCli, type CliIo } from '@lifeline/cli';
import { BuiltServer } from './built-server';

const admin = { sub: 'ada', roles: ['admin'] };
const clerk = { sub: 'carl', roles: ['accounting'] };

/** A definition published as YAML, fetched back as BPMN from the built server. */
describe('GET /definitions/:key/bpmn on the built server', () => {
  let server: BuiltServer;
  beforeAll(async () => {
    server = await BuiltServer.start();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  const get = (path: string, user = clerk) =>
    fetch(server.url + path, { headers: { authorization: `Bearer ${server.token(user.sub, user.roles)}` } });

  it('answers the demo invoice approval as BPMN XML that parses back with its process, activities and diagram', async () => {
    // The demo's definitions are published at start-up; wait until the read side has them.
    const details = await server.until(
      () => server.call(clerk, 'GET', '/definitions/invoice-approval'),
      (answer) => answer.status === 200,
    );
    const response = await get(`/definitions/invoice-approval/bpmn?version=${details.body.version}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/bpmn+xml; charset=utf-8');
    const xml = await response.text();
    const parsed = await createModdle().fromXML(xml);
    expect(parsed.warnings).toEqual([]);
    const process = (parsed.rootElement.rootElements as ModdleElement[]).find((e) => e.$type === 'bpmn:Process')!;
    expect(process.name).toBe(details.body.definition.name);
    const definition = ((process.extensionElements as ModdleElement).values as ModdleElement[]).find(
      (e) => e.$type === 'lifeline:Definition',
    )!;
    expect([definition.key, definition.relatedEntity]).toEqual(['invoice-approval', 'Invoice']);
    for (const id of Object.keys(details.body.definition.activities)) expect(parsed.elementsById[id]).toBeDefined();
    const plane = (parsed.rootElement.diagrams as ModdleElement[])[0].plane as ModdleElement;
    expect((plane.planeElement as ModdleElement[]).length).toBe((process.flowElements as ModdleElement[]).length);
    // Without a version: the latest, the same text.
    expect(await (await get('/definitions/invoice-approval/bpmn')).text()).toBe(xml);
  });

  it('is in the OpenAPI document: the 200 answer as application/bpmn+xml, the errors as JSON', async () => {
    const document = (await server.call(null, 'GET', '/docs/openapi.json')).body;
    const operation = document.paths['/definitions/{key}/bpmn'].get;
    expect(Object.keys(operation.responses['200'].content)).toEqual(['application/bpmn+xml']);
    expect(operation.responses['200'].content['application/bpmn+xml'].schema).toEqual({ type: 'string' });
    expect(Object.keys(operation.responses['404'].content)).toEqual(['application/json']);
    expect(operation.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['key', 'minPosition', 'version']);
  });

  it('answers 404 for an unknown definition or version and 400 for a version that is no number, as JSON errors', async () => {
    const published = await server.call(admin, 'POST', '/definitions', {
      key: 'tiny',
      name: 'Tiny',
      relatedEntity: 'Case',
      start: 'done',
      activities: { done: { type: 'end' } },
    });
    expect(published.status).toBe(201);
    await server.until(
      () => server.call(clerk, 'GET', '/definitions/tiny'),
      (answer) => answer.status === 200,
    );
    const cases: [string, number, string][] = [
      ['/definitions/nothing-here/bpmn', 404, 'DEFINITION.NOT_FOUND'],
      ['/definitions/nothing-here/bpmn?version=1', 404, 'DEFINITION.NOT_FOUND'],
      ['/definitions/tiny/bpmn?version=2', 404, 'DEFINITION.VERSION_NOT_FOUND'],
      ['/definitions/tiny/bpmn?version=zero', 400, 'QUERY.INVALID'],
      ['/definitions/tiny/bpmn?version=0', 400, 'QUERY.INVALID'],
    ];
    for (const [path, status, code] of cases) {
      const answer = await get(path);
      const type = answer.headers.get('content-type');
      const body = (await answer.json()) as { error?: { code?: string } };
      // An error of this route is JSON, labelled so (not as the BPMN its success would be).
      expect({ path, status: answer.status, code: body.error?.code, type }).toEqual({
        path,
        status,
        code,
        type: 'application/json; charset=utf-8',
      });
    }
    expect((await server.call(null, 'GET', '/definitions/tiny/bpmn')).status).toBe(401);
    const tiny = await get('/definitions/tiny/bpmn?version=1');
    expect(tiny.status).toBe(200);
    expect(await tiny.text()).toContain('<bpmn:endEvent id="done"');
  });

  it('lifeline export --url prints what the server answers, and says what went wrong when it refuses', async () => {
    const cli = async (argv: string[]) => {
      let stdout = '';
      let stderr = '';
      const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: {}, cwd: '.' };
      return { code: await runCli(argv, io), stdout, stderr };
    };
    const token = server.token(clerk.sub, clerk.roles);
    const printed = await cli(['export', 'invoice-approval', '--url', server.url, '--token', token]);
    expect([printed.code, printed.stderr]).toEqual([0, '']);
    expect(printed.stdout).toBe(await (await get('/definitions/invoice-approval/bpmn')).text());
    const missing = await cli(['export', 'invoice-approval', '--version', '99', '--url', server.url, '--token', token]);
    expect(missing).toEqual({
      code: 1,
      stdout: '',
      stderr: `lifeline: ${server.url} answered 404 DEFINITION.VERSION_NOT_FOUND: No version 99 of definition invoice-approval\n`,
    });
    expect((await cli(['export', 'invoice-approval', '--url', server.url])).stderr).toContain('answered 401');
  });
});
