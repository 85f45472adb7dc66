import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliIo } from '@lifeline/cli';
import { BuiltServer } from './built-server';

jest.setTimeout(90_000);

const APP = { sub: 'erp', roles: ['ingest'] };
const ADMIN = { sub: 'ops', roles: ['admin'] };
const CLERK = { sub: 'cleo', roles: ['accounting'] };
const NS =
  'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" ' +
  'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';

/** As Camunda Modeler saves a Camunda 8 diagram (without its DI): a record event starts a task for accounting. */
const drawing = (
  processId: string,
  assignment = '<zeebe:assignmentDefinition candidateGroups="accounting" />',
  title = 'Check the receipt',
) =>
  `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions ${NS} id="Definitions_1">
  <bpmn:message id="Message_created" name="Receipt.created" />
  <bpmn:process id="${processId}" name="Receipt check" isExecutable="true">
    <bpmn:startEvent id="Created"><bpmn:messageEventDefinition messageRef="Message_created" /></bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Created" targetRef="Check" />
    <bpmn:userTask id="Check" name="${title}">
      <bpmn:extensionElements>${assignment}</bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Check" targetRef="Done" />
    <bpmn:endEvent id="Done" />
  </bpmn:process>
</bpmn:definitions>`;

const receiptCreated = (id: string) => ({
  id: `evt-${id}`,
  entityType: 'Receipt',
  entityId: id,
  kind: 'created',
  occurredAt: '2026-11-21T10:00:00.000Z',
  data: { amount: 120 },
});

describe('BPMN import (built server): POST /definitions with application/bpmn+xml, and lifeline import', () => {
  let server: BuiltServer;
  let dir: string;
  beforeAll(async () => {
    server = await BuiltServer.start();
    dir = mkdtempSync(join(tmpdir(), 'lifeline-bpmn-e2e-'));
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes a drawing (201, key from the process id) and an entity event starts it: the task is in the Taskbox', async () => {
    const xml = drawing('Receipt_check');
    const published = await server.call(ADMIN, 'POST', '/definitions?relatedEntity=Receipt', xml, {
      'content-type': 'application/bpmn+xml',
    });
    expect(published.status).toBe(201);
    expect(published.body).toMatchObject({ key: 'receipt-check', version: 1 });
    const details = await server.until(
      () => server.call(ADMIN, 'GET', `/definitions/receipt-check?minPosition=${published.body.position}`),
      (answer) => answer.status === 200,
    );
    expect(details.body).toMatchObject({
      key: 'receipt-check',
      relatedEntity: 'Receipt',
      versions: [{ version: 1 }],
      definition: { start: 'Check', triggers: [{ on: 'created' }] },
    });

    expect((await server.call(APP, 'POST', '/entity-events', receiptCreated('RCP-1'))).status).toBe(202);
    const tasks = await server.until(
      () => server.call(CLERK, 'GET', '/tasks?entityId=RCP-1'),
      (answer) => answer.body.items?.length === 1,
    );
    expect(tasks.body.items[0]).toMatchObject({ title: 'Check the receipt', role: 'accounting', status: 'new' });
  });

  it('refuses a drawing Lifeline cannot run: 400 DEFINITION.INVALID, each issue with its element; bad query options: 400', async () => {
    const refused = await server.call(
      ADMIN,
      'POST',
      '/definitions?relatedEntity=Receipt',
      drawing('Receipt_unassigned', ''),
      { 'content-type': 'application/bpmn+xml' },
    );
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('DEFINITION.INVALID');
    expect(refused.body.error.details).toEqual([
      {
        path: 'bpmn.Check',
        message: expect.stringContaining('assignee'),
        code: 'BPMN.NO_ASSIGNEE',
        element: { id: 'Check', name: 'Check the receipt', type: 'bpmn:UserTask' },
      },
    ]);
    const badOption = await server.call(ADMIN, 'POST', '/definitions?relatedEntity=not%20a%20type', drawing('X'), {
      'content-type': 'application/xml',
    });
    expect(badOption.status).toBe(400);
    expect(badOption.body.error.code).toBe('QUERY.INVALID');
    const doctype = await server.call(ADMIN, 'POST', '/definitions', `<!DOCTYPE x [<!ENTITY a "b">]>${drawing('X')}`, {
      'content-type': 'text/xml',
    });
    expect(doctype.status).toBe(400);
    expect(doctype.body.error.details[0]).toMatchObject({ code: 'BPMN.INVALID_XML' });
  });

  it('lifeline import publishes a file (exit 0, key and version) or prints the issues by element (exit 2)', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = {
      stdout: (text) => void out.push(text),
      stderr: (text) => void err.push(text),
      env: { LIFELINE_URL: server.url, LIFELINE_TOKEN: server.token(ADMIN.sub, ADMIN.roles) },
      cwd: dir,
    };
    writeFileSync(join(dir, 'check.bpmn'), drawing('Check_v2', undefined, 'Check the receipt again'));
    expect(await runCli(['import', 'check.bpmn', '--related-entity', 'Receipt', '--key', 'receipt-check'], io)).toBe(0);
    expect(out.join('')).toBe('Published receipt-check version 2\n');

    writeFileSync(join(dir, 'groups.bpmn'), drawing('Groups', '<zeebe:assignmentDefinition candidateGroups="a,b" />'));
    expect(await runCli(['import', 'groups.bpmn', '--related-entity', 'Receipt'], io)).toBe(2);
    const printed = err.join('');
    expect(printed).toContain('lifeline: DEFINITION.INVALID');
    expect(printed).toContain(
      '  Check (bpmn:UserTask "Check the receipt")\n    bpmn.Check: a user task goes to one candidate group',
    );
    expect(printed).toContain('[BPMN.UNSUPPORTED]');

    expect(await runCli(['import', 'missing.bpmn'], io)).toBe(2);
    expect(err.join('')).toContain('Cannot read');
  });
});
