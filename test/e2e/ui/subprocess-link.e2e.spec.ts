import { describeInBrowser, signInAs, useUi, type UiHarness } from './browser';

jest.setTimeout(60_000);

const onboarding = `
key: supplier-onboarding
name: Supplier onboarding
relatedEntity: Supplier
triggers: []
start: collect
activities:
  collect: { type: human, title: Collect the bank details, assignee: { role: accounting }, next: done }
  done: { type: end }
`;
const order = `
key: purchase-order
name: Purchase order
relatedEntity: PurchaseOrder
triggers: [{ on: created }]
start: onboard
activities:
  onboard:
    type: subprocess
    process: supplier-onboarding
    record: { type: Supplier, id: entity.supplierId }
    next: done
  done: { type: end }
`;

describeInBrowser('A sub-process in a browser: the diagram draws it, the pages link parent and child', () => {
  const harness = useUi();
  let ui: UiHarness;
  beforeEach(() => {
    ui = harness();
  });

  it('the parent’s diagram shows the sub-process, its page links the child, and the child’s page links back', async () => {
    for (const yaml of [onboarding, order]) {
      const published = await ui.lifeline.call('admin', 'POST', '/definitions', yaml, {
        'content-type': 'application/yaml',
      });
      expect(published.status).toBe(201);
    }
    const posted = await ui.lifeline.call('app', 'POST', '/entity-events', {
      id: 'po-ui-sub',
      entityType: 'PurchaseOrder',
      entityId: 'PO-UI-SUB',
      kind: 'created',
      occurredAt: '2026-11-21T10:00:00Z',
      data: { supplierId: 'S-UI' },
    });
    expect(posted.status).toBe(202);
    await ui.lifeline.settle();
    const parent = (await ui.lifeline.call('admin', 'GET', '/instances?definition=purchase-order')).body.items[0];
    const child = (await ui.lifeline.call('admin', 'GET', '/instances?definition=supplier-onboarding')).body.items[0];

    const page = await ui.newPage();
    await signInAs(page, ui.lifeline.url, 'admin');
    await page.goto(`${ui.lifeline.url}/#/instances/${parent.id}`);
    const node = page.locator('svg.flow g.node[data-activity="onboard"]');
    await node.waitFor();
    await expect(node.getAttribute('data-type')).resolves.toBe('subprocess');
    await expect(node.locator('.subprocess-marker').count()).resolves.toBe(2);
    await expect(node.textContent()).resolves.toContain('Sub-process: supplier-onboarding');
    await expect(node.getAttribute('class')).resolves.toContain('is-current');

    const childLink = page.locator('dd.child-instances a');
    await expect(childLink.innerText()).resolves.toBe(child.id);
    await childLink.click();
    await page.locator('dd.parent-instance a').waitFor();
    await expect(page.locator('dd.started-cause').innerText()).resolves.toContain('a sub-process, started at onboard');
    await page.locator('dd.parent-instance a').click();
    await page.waitForURL(new RegExp(`#/instances/${parent.id}$`));
  });
});
