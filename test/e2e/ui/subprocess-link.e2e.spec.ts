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
    const node = page.locator('.bpmn-canvas g.djs-element[data-element-id="onboard"]');
    await node.waitFor();
    // A call activity, drawn with bpmn-js's sub-process marker; the table names the process it calls.
    await expect(node.locator('[data-marker="sub-process"]').count()).resolves.toBe(1);
    await expect(page.locator('table.activity-states tr[data-activity="onboard"]').textContent()).resolves.toContain(
      'Sub-process: supplier-onboarding',
    );
    await expect(node.getAttribute('class')).resolves.toContain('lifeline-current');
    // On the drawing, the call activity links to the child instance it started.
    await expect(
      page.locator('.instance-badges[data-activity="onboard"] a.child-link').getAttribute('href'),
    ).resolves.toBe(`#/instances/${child.id}`);

    const childLink = page.locator('dd.child-instances a');
    await expect(childLink.innerText()).resolves.toBe(child.id);
    await childLink.click();
    await page.locator('dd.parent-instance a').waitFor();
    await expect(page.locator('dd.started-cause').innerText()).resolves.toContain('a sub-process, started at onboard');
    await page.locator('dd.parent-instance a').click();
    await page.waitForURL(new RegExp(`#/instances/${parent.id}$`));
  });
});
