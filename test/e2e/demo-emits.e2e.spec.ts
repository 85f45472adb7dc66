import { BuiltServer } from './built-server';

jest.setTimeout(60_000);

const admin = { sub: 'admin', roles: ['admin'] };
const app = { sub: 'app', roles: ['ingest'] };
const dave = { sub: 'dave', roles: ['onboarding'] };

/** The example definitions as `npm start` loads them: what they emit must carry the record's id. */
describe('the demo processes emit the record id (FEEL record.id), not null', () => {
  let server: BuiltServer;
  beforeAll(async () => {
    server = await BuiltServer.start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('customer onboarding: a created customer, verified, emits CreateAccount with customerId = the record id', async () => {
    const recorded = await server.call(app, 'POST', '/entity-events', {
      id: 'cust-42-created',
      entityType: 'Customer',
      entityId: 'CUST-42',
      kind: 'created',
      occurredAt: '2026-11-21T10:00:00Z',
      data: { name: 'Ada Lovelace', email: 'ada@example.com', status: 'New' },
    });
    expect(recorded.status).toBe(202);

    const tasks = await server.until(
      () => server.call(dave, 'GET', '/tasks'),
      (answer) => answer.body?.items?.some((t: { title: string }) => t.title === "Verify the customer's identity"),
    );
    const verify = tasks.body.items.find((t: { title: string }) => t.title === "Verify the customer's identity");
    const completed = await server.call(dave, 'POST', `/tasks/${verify.id}/complete`, {
      result: 'Verified',
      fields: { documentNumber: 'ID-123' },
    });
    expect(completed.status).toBe(200);

    const instanceId = verify.instanceId as string;
    const history = await server.until(
      () => server.call(admin, 'GET', `/instances/${instanceId}/history`),
      (answer) => answer.body?.items?.some((e: { type: string }) => e.type === 'MessageEmitted'),
    );
    const emitted = history.body.items.find((e: { type: string }) => e.type === 'MessageEmitted');
    expect(emitted.data).toMatchObject({
      topic: 'account-commands',
      messageType: 'CreateAccount',
      payload: { customerId: 'CUST-42', name: 'Ada Lovelace', email: 'ada@example.com' },
    });
  });
});
