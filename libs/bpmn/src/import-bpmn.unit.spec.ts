import { DefinitionInvalid, validateDefinition, type ValidationIssue } from '@lifeline/process-domain';
import { importBpmn, MAX_BPMN_FLOW_ELEMENTS } from './import-bpmn';
import type { BpmnImportOptions } from './types';

const NS =
  'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" ' +
  'xmlns:lifeline="https://lifeline.dev/schema/bpmn/1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' +
  'xmlns:modeler="http://camunda.org/schema/modeler/1.0"';

/** A Camunda-8 style file with one executable process. */
const bpmn = (body: string, options: { process?: string; roots?: string } = {}) =>
  `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions ${NS} id="Definitions_1" modeler:executionPlatform="Camunda Cloud">
  <bpmn:process id="${options.process ?? 'Invoice_approval'}" name="Invoice approval" isExecutable="true">
    ${body}
  </bpmn:process>
  ${options.roots ?? ''}
</bpmn:definitions>`;

const xmlText = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const ext = (inner: string) => `<bpmn:extensionElements>${inner}</bpmn:extensionElements>`;
const flow = (id: string, from: string, to: string, condition?: string) =>
  condition === undefined
    ? `<bpmn:sequenceFlow id="${id}" sourceRef="${from}" targetRef="${to}" />`
    : `<bpmn:sequenceFlow id="${id}" sourceRef="${from}" targetRef="${to}"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${condition}</bpmn:conditionExpression></bpmn:sequenceFlow>`;
const start = (to: string, inner = '') =>
  `<bpmn:startEvent id="Start">${inner}</bpmn:startEvent>${flow('Flow_start', 'Start', to)}`;
const end = (id = 'Done') => `<bpmn:endEvent id="${id}" />`;
const DEFINITION = ext('<lifeline:definition relatedEntity="Invoice" />');
const RELATED = { relatedEntity: 'Invoice' };
const task = (id: string, to: string, set = 'ok') =>
  `<bpmn:task id="${id}">${ext(`<zeebe:ioMapping><zeebe:output source="=true" target="${set}" /></zeebe:ioMapping>`)}</bpmn:task>${flow(`Flow_${id}`, id, to)}`;

/** The import's refusal: its issues. */
async function refusal(xml: string, options: BpmnImportOptions = RELATED): Promise<ValidationIssue[]> {
  try {
    await importBpmn(xml, options);
  } catch (error) {
    if (error instanceof DefinitionInvalid) return error.issues;
    throw error;
  }
  throw new Error('the import was accepted');
}

const codesAndElements = (issues: ValidationIssue[]) => issues.map((i) => [i.code, i.element?.id]);

describe('importBpmn, the definition', () => {
  it('given a message start, a user task with results and per-result flows, then the document is the mapping of each part', async () => {
    const xml = bpmn(
      `
      ${ext('<lifeline:definition key="invoice-approval" relatedEntity="Invoice" executionOrder="5" enabled="false" startableBy="accounting clerks" />')}
      <bpmn:startEvent id="Start">
        ${ext('<lifeline:trigger when="=entity.amount &gt; 100" delay="PT1M" />')}
        <bpmn:messageEventDefinition messageRef="Message_created" />
      </bpmn:startEvent>
      ${flow('Flow_start', 'Start', 'Review')}
      <bpmn:userTask id="Review" name="Review the invoice">
        <bpmn:documentation>Check the amount</bpmn:documentation>
        ${ext(`
          <zeebe:userTask />
          <zeebe:assignmentDefinition assignee="alice" />
          <zeebe:taskSchedule dueDate="=now() + duration(&quot;P2D&quot;)" />
          <lifeline:task hint="Look at the PDF"><lifeline:result name="approve" /><lifeline:result name="reject" /></lifeline:task>`)}
      </bpmn:userTask>
      ${flow('Flow_approve', 'Review', 'Approved', '=Review.result = "approve"')}
      ${flow('Flow_reject', 'Review', 'Rejected', '=Review.result = "reject"')}
      ${end('Approved')}
      <bpmn:endEvent id="Rejected"><bpmn:terminateEventDefinition /></bpmn:endEvent>`,
      { roots: '<bpmn:message id="Message_created" name="Invoice.created" />' },
    );
    const { document, elementOf } = await importBpmn(xml);
    expect(document).toEqual({
      key: 'invoice-approval',
      name: 'Invoice approval',
      relatedEntity: 'Invoice',
      executionOrder: 5,
      enabled: false,
      startableBy: ['accounting', 'clerks'],
      triggers: [{ on: 'created', when: 'entity.amount > 100', delay: 'PT1M' }],
      start: 'Review',
      activities: {
        Review: {
          type: 'human',
          title: 'Review the invoice',
          instructions: 'Check the amount',
          hint: 'Look at the PDF',
          assignee: { user: 'alice' },
          dueIn: 'P2D',
          results: ['approve', 'reject'],
          next: { approve: 'Approved', reject: 'Rejected' },
        },
        Approved: { type: 'end' },
        Rejected: { type: 'end', terminate: true },
      },
    });
    expect(validateDefinition(document).ok).toBe(true);
    expect(elementOf('triggers[0].when')).toEqual({ id: 'Start', type: 'bpmn:StartEvent' });
    expect(elementOf('activities.Review.assignee')).toEqual({
      id: 'Review',
      name: 'Review the invoice',
      type: 'bpmn:UserTask',
    });
    expect(elementOf('activities.Review.next.reject')).toEqual({ id: 'Flow_reject', type: 'bpmn:SequenceFlow' });
    expect(elementOf('key')).toEqual({ id: 'Invoice_approval', name: 'Invoice approval', type: 'bpmn:Process' });
    expect(elementOf('start')).toEqual({ id: 'Start', type: 'bpmn:StartEvent' });
  });

  it('given no lifeline:definition, then the key comes from the process id (or the key option) and the record type from the option', async () => {
    const xml = bpmn(`${start('Done')}${end()}`, { process: 'Invoice_Approval.v2' });
    const derived = await importBpmn(xml, RELATED);
    expect(derived.document).toMatchObject({ key: 'invoice-approval-v2', relatedEntity: 'Invoice', triggers: [] });
    const named = await importBpmn(xml, { key: 'billing', relatedEntity: 'Bill' });
    expect(named.document).toMatchObject({ key: 'billing', relatedEntity: 'Bill' });
  });

  it('given no record type in the file nor the options, then BPMN.NO_RELATED_ENTITY on the process', async () => {
    const issues = await refusal(bpmn(`${start('Done')}${end()}`), {});
    expect(issues).toEqual([
      expect.objectContaining({
        path: 'bpmn.Invoice_approval',
        code: 'BPMN.NO_RELATED_ENTITY',
        element: { id: 'Invoice_approval', name: 'Invoice approval', type: 'bpmn:Process' },
      }),
    ]);
  });

  it('given onRecordDeleted next and conditional starts, then they name activities (through a merge)', async () => {
    const xml = bpmn(`
      ${ext(`<lifeline:definition relatedEntity="Invoice" onRecordDeleted="next" onRecordDeletedNext="Cleanup">
        <lifeline:conditionalStart when="=entity.status = &quot;disputed&quot;" next="Merge" /></lifeline:definition>`)}
      ${start('Done')}${end()}
      <bpmn:exclusiveGateway id="Merge" />${flow('Flow_m', 'Merge', 'Cleanup')}
      ${task('Cleanup', 'Done')}`);
    const { document } = await importBpmn(xml);
    expect(document).toMatchObject({
      onRecordDeleted: { next: 'Cleanup' },
      conditionalStarts: [{ when: 'entity.status = "disputed"', next: 'Cleanup' }],
    });
    expect(Object.keys(document.activities as object)).toEqual(['Done', 'Cleanup']);
  });
});

describe('importBpmn, start events', () => {
  it('given a conditional, a timer (cron) and a none start event leading to one activity, then two triggers and the start', async () => {
    const xml = bpmn(`
      ${DEFINITION}
      <bpmn:startEvent id="Changed">
        ${ext('<lifeline:trigger fields="amount status" />')}
        <bpmn:conditionalEventDefinition><bpmn:condition xsi:type="bpmn:tFormalExpression">=entity.amount &gt; 10</bpmn:condition></bpmn:conditionalEventDefinition>
      </bpmn:startEvent>
      <bpmn:startEvent id="Weekly">
        ${ext('<lifeline:trigger timeZone="Europe/Paris" />')}
        <bpmn:timerEventDefinition><bpmn:timeCycle xsi:type="bpmn:tFormalExpression">0 9 * * MON</bpmn:timeCycle></bpmn:timerEventDefinition>
      </bpmn:startEvent>
      <bpmn:startEvent id="ByHand" />
      <bpmn:exclusiveGateway id="Merge" />
      ${flow('F1', 'Changed', 'Merge')}${flow('F2', 'Weekly', 'Merge')}${flow('F3', 'ByHand', 'Work')}${flow('F4', 'Merge', 'Work')}
      ${task('Work', 'Done')}${end()}`);
    const { document, elementOf } = await importBpmn(xml);
    expect(document.triggers).toEqual([
      { on: 'updated', fields: ['amount', 'status'], when: 'entity.amount > 10' },
      { on: 'schedule', cron: '0 9 * * MON', timeZone: 'Europe/Paris' },
    ]);
    expect(document.start).toBe('Work');
    expect(elementOf('triggers[1].cron')?.id).toBe('Weekly');
  });

  it('given a message named after the kind only, then that kind; given start events leading apart, then BPMN.SEVERAL_STARTS', async () => {
    const kinds = await importBpmn(
      bpmn(
        `${DEFINITION}<bpmn:startEvent id="Start"><bpmn:messageEventDefinition messageRef="M" /></bpmn:startEvent>${flow('F', 'Start', 'Done')}${end()}`,
        { roots: '<bpmn:message id="M" name="invoice deleted" />' },
      ),
    );
    expect(kinds.document.triggers).toEqual([{ on: 'deleted' }]);
    const issues = await refusal(
      bpmn(`${start('A')}<bpmn:startEvent id="Other" />${flow('F2', 'Other', 'Done')}${task('A', 'Done')}${end()}`),
    );
    expect(codesAndElements(issues)).toEqual([['BPMN.SEVERAL_STARTS', 'Other']]);
  });
});

describe('importBpmn, activities', () => {
  it('given a user task with an embedded Camunda Form, then its fields and its question', async () => {
    const form = JSON.stringify({
      components: [
        { type: 'textfield', key: 'iban', label: 'IBAN', validate: { required: true } },
        { type: 'textarea', key: 'note' },
        { type: 'number', key: 'amount', label: 'Amount' },
        { type: 'checkbox', key: 'urgent', label: 'Urgent' },
        { type: 'datetime', subtype: 'date', key: 'paidOn', label: 'Paid on' },
        {
          type: 'radio',
          key: 'verdict',
          label: 'Pay it?',
          values: [
            { label: 'Yes', value: 'yes' },
            { label: 'No', value: 'no' },
          ],
        },
        { type: 'text', text: '# Heading' },
        { type: 'button', action: 'submit' },
      ],
    });
    const xml = bpmn(`
      ${ext(`<lifeline:definition relatedEntity="Invoice" /><zeebe:userTaskForm id="Form_pay">${xmlText(form)}</zeebe:userTaskForm>`)}
      ${start('Pay')}
      <bpmn:userTask id="Pay" name="Pay">${ext(`<zeebe:assignmentDefinition candidateGroups="accounting" /><zeebe:formDefinition formKey="camunda-forms:bpmn:Form_pay" /><lifeline:task completeWhen="=entity.paid" dueIn="PT4H" />`)}</bpmn:userTask>
      ${flow('F', 'Pay', 'Done')}${end()}`);
    const { document } = await importBpmn(xml);
    expect((document.activities as Record<string, unknown>).Pay).toEqual({
      type: 'human',
      title: 'Pay',
      assignee: { role: 'accounting' },
      dueIn: 'PT4H',
      form: [
        { name: 'iban', type: 'text', required: true, label: 'IBAN' },
        { name: 'note', type: 'text', required: false },
        { name: 'amount', type: 'number', required: false, label: 'Amount' },
        { name: 'urgent', type: 'boolean', required: false, label: 'Urgent' },
        { name: 'paidOn', type: 'date', required: false, label: 'Paid on' },
      ],
      question: { text: 'Pay it?', options: ['yes', 'no'], multiple: false },
      completeWhen: 'entity.paid',
      next: 'Done',
    });
    expect(validateDefinition(document).ok).toBe(true);
  });

  it('given an assignee expression, then userFrom; given a checklist, then a multiple-choice question', async () => {
    const form = JSON.stringify({
      components: [{ type: 'checklist', key: 'c', label: 'Which?', values: [{ value: 'a' }, { value: 'b' }] }],
    });
    const xml = bpmn(`
      ${ext(`<lifeline:definition relatedEntity="Invoice" /><zeebe:userTaskForm id="F1">${xmlText(form)}</zeebe:userTaskForm>`)}
      ${start('Check')}
      <bpmn:userTask id="Check" name="Check">${ext('<zeebe:assignmentDefinition assignee="=entity.owner" /><zeebe:formDefinition formKey="camunda-forms:bpmn:F1" />')}</bpmn:userTask>
      ${flow('F', 'Check', 'Done')}${end()}`);
    const { document } = await importBpmn(xml);
    expect((document.activities as Record<string, Record<string, unknown>>).Check).toMatchObject({
      assignee: { userFrom: 'entity.owner' },
      question: { text: 'Which?', options: ['a', 'b'], multiple: true },
    });
  });

  it('given tasks, a script task and throw events, then automatic activities with set and emit', async () => {
    const xml = bpmn(`
      ${DEFINITION}${start('Compute')}
      <bpmn:task id="Compute">${ext('<zeebe:ioMapping><zeebe:output source="=entity.amount * 2" target="double" /></zeebe:ioMapping>')}</bpmn:task>
      ${flow('F1', 'Compute', 'Score')}
      <bpmn:scriptTask id="Score">${ext('<zeebe:script expression="=double + 1" resultVariable="score" />')}</bpmn:scriptTask>
      ${flow('F2', 'Score', 'Notify')}
      <bpmn:intermediateThrowEvent id="Notify">
        ${ext('<lifeline:emit topic="invoices" type="InvoiceScored"><lifeline:entry name="score" expression="=score" /></lifeline:emit>')}
        <bpmn:messageEventDefinition />
      </bpmn:intermediateThrowEvent>
      ${flow('F3', 'Notify', 'Mark')}
      <bpmn:intermediateThrowEvent id="Mark">${ext('<zeebe:ioMapping><zeebe:output source="=&quot;scored&quot;" target="state" /></zeebe:ioMapping>')}</bpmn:intermediateThrowEvent>
      ${flow('F4', 'Mark', 'Manual')}
      <bpmn:manualTask id="Manual">${ext('<lifeline:emit topic="audit" type="Done" />')}</bpmn:manualTask>
      ${flow('F5', 'Manual', 'Done')}${end()}`);
    const { document } = await importBpmn(xml);
    expect(document.activities).toEqual({
      Compute: { type: 'automatic', set: { double: 'entity.amount * 2' }, next: 'Score' },
      Score: { type: 'automatic', set: { score: 'double + 1' }, next: 'Notify' },
      Notify: {
        type: 'automatic',
        emit: { topic: 'invoices', type: 'InvoiceScored', payload: { score: 'score' } },
        next: 'Mark',
      },
      Mark: { type: 'automatic', set: { state: '"scored"' }, next: 'Manual' },
      Manual: { type: 'automatic', emit: { topic: 'audit', type: 'Done' }, next: 'Done' },
      Done: { type: 'end' },
    });
    expect(validateDefinition(document).ok).toBe(true);
  });

  it('given service, send and business-rule tasks with jobs and an error boundary, then service activities with inputs and errors', async () => {
    const xml = bpmn(
      `${DEFINITION}${start('Charge')}
      <bpmn:serviceTask id="Charge">${ext(`
        <zeebe:taskDefinition type="payments.charge" retries="5" />
        <zeebe:ioMapping><zeebe:input source="=entity.amount" target="amount" /></zeebe:ioMapping>
        <lifeline:service retryBackoff="PT30S" />`)}
      </bpmn:serviceTask>
      <bpmn:boundaryEvent id="Declined" attachedToRef="Charge"><bpmn:errorEventDefinition errorRef="Error_declined" /></bpmn:boundaryEvent>
      ${flow('F1', 'Charge', 'Mail')}${flow('F2', 'Declined', 'Failed')}
      <bpmn:sendTask id="Mail">${ext('<zeebe:taskDefinition type="mail" />')}</bpmn:sendTask>
      ${flow('F3', 'Mail', 'Rules')}
      <bpmn:businessRuleTask id="Rules">${ext('<zeebe:taskDefinition type="rules" />')}</bpmn:businessRuleTask>
      ${flow('F4', 'Rules', 'Done')}${end()}${end('Failed')}`,
      { roots: '<bpmn:error id="Error_declined" name="Declined" errorCode="CARD_DECLINED" />' },
    );
    const { document, elementOf } = await importBpmn(xml);
    expect(document.activities).toMatchObject({
      Charge: {
        type: 'service',
        jobType: 'payments.charge',
        retries: 5,
        retryBackoff: 'PT30S',
        inputs: { amount: 'entity.amount' },
        errors: { CARD_DECLINED: 'Failed' },
        next: 'Mail',
      },
      Mail: { type: 'service', jobType: 'mail', next: 'Rules' },
      Rules: { type: 'service', jobType: 'rules', next: 'Done' },
    });
    expect(validateDefinition(document).ok).toBe(true);
    expect(elementOf('activities.Charge.errors.CARD_DECLINED')?.id).toBe('Declined');
  });

  it('given a call activity, then a subprocess with version, record, inputs and outputs', async () => {
    const xml = bpmn(`${DEFINITION}${start('Onboard')}
      <bpmn:callActivity id="Onboard">${ext(`
        <zeebe:calledElement processId="Customer_onboarding" propagateAllChildVariables="false" />
        <lifeline:call version="2" recordType="Customer" recordId="=entity.customerId" />
        <zeebe:ioMapping><zeebe:input source="=entity.id" target="invoice" /><zeebe:output source="=child.level" target="level" /></zeebe:ioMapping>`)}
      </bpmn:callActivity>${flow('F', 'Onboard', 'Done')}${end()}`);
    const { document } = await importBpmn(xml);
    expect((document.activities as Record<string, unknown>).Onboard).toEqual({
      type: 'subprocess',
      process: 'customer-onboarding',
      version: 2,
      record: { type: 'Customer', id: 'entity.customerId' },
      inputs: { invoice: 'entity.id' },
      outputs: { level: 'child.level' },
      next: 'Done',
    });
  });

  it('given exclusive, inclusive and parallel gateways, then decision, inclusive, parallel and join; merges collapse', async () => {
    const xml = bpmn(`${DEFINITION}${start('Route')}
      <bpmn:exclusiveGateway id="Route" default="F_small"><bpmn:outgoing>F_big</bpmn:outgoing><bpmn:outgoing>F_small</bpmn:outgoing></bpmn:exclusiveGateway>
      ${flow('F_small', 'Route', 'Merge')}${flow('F_big', 'Route', 'Fork', '=entity.amount &gt; 1000')}
      <bpmn:parallelGateway id="Fork" />${flow('P1', 'Fork', 'A')}${flow('P2', 'Fork', 'B')}
      ${task('A', 'Join', 'a')}${task('B', 'Join', 'b')}
      <bpmn:parallelGateway id="Join" />${flow('J', 'Join', 'Some')}
      <bpmn:inclusiveGateway id="Some" default="I3" />
      ${flow('I1', 'Some', 'C', '=a')}${flow('I2', 'Some', 'D', '=b')}${flow('I3', 'Some', 'D')}
      ${task('C', 'Meet', 'c')}${task('D', 'Meet', 'd')}
      <bpmn:inclusiveGateway id="Meet" />${flow('M', 'Meet', 'Merge')}
      <bpmn:exclusiveGateway id="Merge" />${flow('X', 'Merge', 'Done')}${end()}`);
    const { document, elementOf } = await importBpmn(xml);
    expect(document.activities).toMatchObject({
      Route: { type: 'decision', branches: [{ when: 'entity.amount > 1000', next: 'Fork' }], otherwise: 'Done' },
      Fork: { type: 'parallel', branches: ['A', 'B'] },
      Join: { type: 'join', next: 'Some' },
      Some: {
        type: 'inclusive',
        branches: [
          { when: 'a', next: 'C' },
          { when: 'b', next: 'D' },
        ],
        otherwise: 'D',
      },
      Meet: { type: 'join', next: 'Done' },
    });
    expect(Object.keys(document.activities as object)).not.toContain('Merge');
    expect(validateDefinition(document).ok).toBe(true);
    expect(elementOf('activities.Route.branches[0].when')?.id).toBe('F_big');
    expect(elementOf('activities.Route.otherwise')?.id).toBe('F_small');
  });

  it('given several unconditioned flows out of a task, then a next list', async () => {
    const xml = bpmn(`${DEFINITION}${start('Split')}
      <bpmn:task id="Split">${ext('<zeebe:ioMapping><zeebe:output source="=1" target="x" /></zeebe:ioMapping>')}</bpmn:task>
      ${flow('F1', 'Split', 'A')}${flow('F2', 'Split', 'B')}
      ${task('A', 'Join', 'a')}${task('B', 'Join', 'b')}<bpmn:parallelGateway id="Join" />${flow('J', 'Join', 'Done')}${end()}`);
    const { document } = await importBpmn(xml);
    expect((document.activities as Record<string, Record<string, unknown>>).Split.next).toEqual(['A', 'B']);
    expect(validateDefinition(document).ok).toBe(true);
  });

  it('given catch events and an event-based gateway, then waits (until, timeout, onTimeout, boundary)', async () => {
    const conditional = (id: string, when: string, role = '') =>
      `<bpmn:intermediateCatchEvent id="${id}">${role ? ext(`<lifeline:boundary role="${role}" />`) : ''}<bpmn:conditionalEventDefinition><bpmn:condition xsi:type="bpmn:tFormalExpression">${when}</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:intermediateCatchEvent>`;
    const timer = (id: string, duration: string) =>
      `<bpmn:intermediateCatchEvent id="${id}"><bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">${duration}</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>`;
    const xml = bpmn(`${DEFINITION}${start('Paid')}
      ${conditional('Paid', '=entity.paid')}${flow('F1', 'Paid', 'Cool')}
      ${timer('Cool', 'PT1H')}${flow('F2', 'Cool', 'Either')}
      <bpmn:eventBasedGateway id="Either" />
      ${flow('E1', 'Either', 'Late')}${flow('E2', 'Either', 'Shipped')}${flow('E3', 'Either', 'Cancelled')}
      ${timer('Late', 'P7D')}${conditional('Shipped', '=entity.shipped')}${conditional('Cancelled', '=entity.cancelled')}
      ${flow('L', 'Late', 'Chase')}${flow('S', 'Shipped', 'Done')}${flow('C', 'Cancelled', 'Stop')}
      ${task('Chase', 'Done')}${end()}${end('Stop')}`);
    const { document, elementOf } = await importBpmn(xml);
    expect(document.activities).toMatchObject({
      Paid: { type: 'wait', until: 'entity.paid', next: 'Cool' },
      Cool: { type: 'wait', timeout: 'PT1H', next: 'Either' },
      Either: {
        type: 'wait',
        until: 'entity.shipped',
        timeout: 'P7D',
        onTimeout: 'Chase',
        boundary: [{ when: 'entity.cancelled', next: 'Stop' }],
        next: 'Done',
      },
    });
    expect(Object.keys(document.activities as object)).not.toContain('Late');
    expect(validateDefinition(document).ok).toBe(true);
    expect(elementOf('activities.Either.boundary[0].when')?.id).toBe('Cancelled');
    expect(elementOf('activities.Either.onTimeout')?.id).toBe('Late');
  });

  it('given boundary events on a user task, then interrupting timers and conditions, reassignments and reminders', async () => {
    const timer = (id: string, after: string, interrupting: boolean, settings = '') =>
      `<bpmn:boundaryEvent id="${id}" attachedToRef="Review" cancelActivity="${interrupting}">${settings ? ext(settings) : ''}<bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">${after}</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>`;
    const xml = bpmn(`${DEFINITION}${start('Review')}
      <bpmn:userTask id="Review" name="Review">${ext('<zeebe:assignmentDefinition candidateGroups="clerks" />')}</bpmn:userTask>
      ${flow('F', 'Review', 'Done')}
      ${timer('Escalate', 'P3D', true)}${flow('FE', 'Escalate', 'Boss')}
      ${timer('Hand', 'P1D', false, '<lifeline:boundary reassignRole="seniors" />')}
      ${timer('Nag', 'PT4H', false, '<lifeline:boundary remind="true" every="PT4H" />')}
      <bpmn:boundaryEvent id="Gone" attachedToRef="Review"><bpmn:conditionalEventDefinition><bpmn:condition xsi:type="bpmn:tFormalExpression">=entity.cancelled</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:boundaryEvent>
      ${flow('FG', 'Gone', 'Done')}
      <bpmn:userTask id="Boss" name="Decide">${ext('<zeebe:assignmentDefinition assignee="boss" />')}</bpmn:userTask>
      ${flow('FB', 'Boss', 'Done')}${end()}`);
    const { document, elementOf } = await importBpmn(xml);
    expect((document.activities as Record<string, Record<string, unknown>>).Review.boundary).toEqual([
      { after: 'P3D', next: 'Boss' },
      { after: 'P1D', reassign: { role: 'seniors' } },
      { after: 'PT4H', every: 'PT4H', remind: true },
      { when: 'entity.cancelled', next: 'Done' },
    ]);
    expect(validateDefinition(document).ok).toBe(true);
    expect(elementOf('activities.Review.boundary[2].every')?.id).toBe('Nag');
  });

  it('given element ids with - and ., then activity ids with _; two that collide are refused', async () => {
    const { document } = await importBpmn(bpmn(`${start('Do-it.now')}${task('Do-it.now', 'Done')}${end()}`), RELATED);
    expect(document.start).toBe('Do_it_now');
    const issues = await refusal(bpmn(`${start('A-b')}${task('A-b', 'A_b')}${task('A_b', 'Done')}${end()}`));
    expect(codesAndElements(issues)).toEqual([['BPMN.ID_COLLISION', 'A_b']]);
  });
});

describe('importBpmn, validation issues name their element', () => {
  it('given bad FEEL on a gateway flow and a bad duration on a timer, then validateDefinition issues map to those elements', async () => {
    const xml = bpmn(`${DEFINITION}${start('Route')}
      <bpmn:exclusiveGateway id="Route" default="F2" />
      ${flow('F1', 'Route', 'Wait', '=entity.amount &gt;')}${flow('F2', 'Route', 'Done')}
      <bpmn:intermediateCatchEvent id="Wait"><bpmn:timerEventDefinition><bpmn:timeDuration>two days</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
      ${flow('F3', 'Wait', 'Done')}${end()}`);
    const { document, elementOf } = await importBpmn(xml);
    const result = validateDefinition(document);
    expect(result.ok).toBe(false);
    const issues = result.ok ? [] : result.issues;
    expect(issues.map((issue) => [issue.path, elementOf(issue.path)?.id])).toEqual([
      ['activities.Route.branches[0].when', 'F1'],
      ['activities.Wait.timeout', 'Wait'],
    ]);
  });
});

describe('importBpmn, refusals (one issue per element, with what to do instead)', () => {
  const userTask = (id: string, extensions: string, inner = '') =>
    `<bpmn:userTask id="${id}" name="${id}">${ext(extensions)}${inner}</bpmn:userTask>`;
  const assigned = '<zeebe:assignmentDefinition assignee="alice" />';
  const around = (middle: string, id = 'X') =>
    bpmn(`${DEFINITION}${start(id)}${middle}${flow('Fx', id, 'Done')}${end()}`);
  const catchOf = (definition: string) =>
    `<bpmn:intermediateCatchEvent id="X">${definition}</bpmn:intermediateCatchEvent>`;
  const cases: [string, string, string, string][] = [
    ['an embedded sub-process', around('<bpmn:subProcess id="X" />'), 'BPMN.UNSUPPORTED', 'X'],
    ['an event sub-process', around('<bpmn:subProcess id="X" triggeredByEvent="true" />'), 'BPMN.UNSUPPORTED', 'X'],
    ['a transaction', around('<bpmn:transaction id="X" />'), 'BPMN.UNSUPPORTED', 'X'],
    ['an ad-hoc sub-process', around('<bpmn:adHocSubProcess id="X" />'), 'BPMN.UNSUPPORTED', 'X'],
    ['a receive task', around('<bpmn:receiveTask id="X" />'), 'BPMN.UNSUPPORTED', 'X'],
    ['a message catch event', around(catchOf('<bpmn:messageEventDefinition />')), 'BPMN.UNSUPPORTED', 'X'],
    ['a signal catch event', around(catchOf('<bpmn:signalEventDefinition />')), 'BPMN.UNSUPPORTED', 'X'],
    ['a link catch event', around(catchOf('<bpmn:linkEventDefinition name="l" />')), 'BPMN.UNSUPPORTED', 'X'],
    [
      'a timer catch with a date',
      around(
        catchOf(
          '<bpmn:timerEventDefinition><bpmn:timeDate>2030-01-01T00:00:00Z</bpmn:timeDate></bpmn:timerEventDefinition>',
        ),
      ),
      'BPMN.UNSUPPORTED',
      'X',
    ],
    [
      'a timer catch with a cycle',
      around(
        catchOf('<bpmn:timerEventDefinition><bpmn:timeCycle>R3/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition>'),
      ),
      'BPMN.UNSUPPORTED',
      'X',
    ],
    [
      'an escalation throw event',
      around('<bpmn:intermediateThrowEvent id="X"><bpmn:escalationEventDefinition /></bpmn:intermediateThrowEvent>'),
      'BPMN.UNSUPPORTED',
      'X',
    ],
    [
      'a compensation throw event',
      around('<bpmn:intermediateThrowEvent id="X"><bpmn:compensateEventDefinition /></bpmn:intermediateThrowEvent>'),
      'BPMN.UNSUPPORTED',
      'X',
    ],
    [
      'an error end event',
      bpmn(`${DEFINITION}${start('X')}<bpmn:endEvent id="X"><bpmn:errorEventDefinition /></bpmn:endEvent>`),
      'BPMN.UNSUPPORTED',
      'X',
    ],
    [
      'a multi-instance task',
      around(userTask('X', assigned, '<bpmn:multiInstanceLoopCharacteristics />')),
      'BPMN.UNSUPPORTED',
      'X',
    ],
    ['a loop marker', around(userTask('X', assigned, '<bpmn:standardLoopCharacteristics />')), 'BPMN.UNSUPPORTED', 'X'],
    [
      'a complex gateway',
      bpmn(
        `${DEFINITION}${start('X')}<bpmn:complexGateway id="X" />${flow('F1', 'X', 'Done')}${flow('F2', 'X', 'Done')}${end()}`,
      ),
      'BPMN.UNSUPPORTED',
      'X',
    ],
    ['a user task without an assignee', around(userTask('X', '')), 'BPMN.NO_ASSIGNEE', 'X'],
    [
      'a user task with several candidate groups',
      around(userTask('X', '<zeebe:assignmentDefinition candidateGroups="a, b" />')),
      'BPMN.UNSUPPORTED',
      'X',
    ],
    [
      'a linked form',
      around(userTask('X', `${assigned}<zeebe:formDefinition formId="invoice-form" />`)),
      'BPMN.UNSUPPORTED',
      'X',
    ],
    [
      'task headers',
      around(userTask('X', `${assigned}<zeebe:taskHeaders><zeebe:header key="a" value="b" /></zeebe:taskHeaders>`)),
      'BPMN.UNSUPPORTED',
      'X',
    ],
    [
      'task listeners',
      around(
        userTask(
          'X',
          `${assigned}<zeebe:taskListeners><zeebe:taskListener eventType="complete" type="t" /></zeebe:taskListeners>`,
        ),
      ),
      'BPMN.UNSUPPORTED',
      'X',
    ],
    [
      'execution listeners',
      around(
        `<bpmn:serviceTask id="X">${ext('<zeebe:taskDefinition type="t" /><zeebe:executionListeners><zeebe:executionListener eventType="start" type="l" /></zeebe:executionListeners>')}</bpmn:serviceTask>`,
      ),
      'BPMN.UNSUPPORTED',
      'X',
    ],
    [
      'a due date that is not now() + a duration',
      around(userTask('X', `${assigned}<zeebe:taskSchedule dueDate="2030-01-01T00:00:00Z" />`)),
      'BPMN.UNSUPPORTED',
      'X',
    ],
    ['a service task without a job type', around('<bpmn:serviceTask id="X" />'), 'BPMN.UNSUPPORTED', 'X'],
    ['a task that does nothing', around('<bpmn:task id="X" />'), 'BPMN.EMPTY_TASK', 'X'],
    [
      'a message boundary event on a user task',
      around(
        `${userTask('X', assigned)}<bpmn:boundaryEvent id="B" attachedToRef="X"><bpmn:messageEventDefinition /></bpmn:boundaryEvent>${flow('FB', 'B', 'Done')}`,
      ),
      'BPMN.UNSUPPORTED',
      'B',
    ],
    [
      'a non-interrupting timer that neither reassigns nor reminds',
      around(
        `${userTask('X', assigned)}<bpmn:boundaryEvent id="B" attachedToRef="X" cancelActivity="false"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>${flow('FB', 'B', 'Done')}`,
      ),
      'BPMN.UNSUPPORTED',
      'B',
    ],
    [
      'a conditional flow out of a task',
      bpmn(
        `${DEFINITION}${start('X')}${task('X', 'Done').replace('<bpmn:sequenceFlow id="Flow_X" sourceRef="X" targetRef="Done" />', flow('Flow_X', 'X', 'Done', '=ok'))}${end()}`,
      ),
      'BPMN.UNSUPPORTED',
      'Flow_X',
    ],
    [
      'a timer start event with a date',
      bpmn(
        `${DEFINITION}<bpmn:startEvent id="S"><bpmn:timerEventDefinition><bpmn:timeDate>2030-01-01T00:00:00Z</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:startEvent>${flow('F', 'S', 'Done')}${end()}`,
      ),
      'BPMN.UNSUPPORTED',
      'S',
    ],
    [
      'a signal start event',
      bpmn(
        `${DEFINITION}<bpmn:startEvent id="S"><bpmn:signalEventDefinition /></bpmn:startEvent>${flow('F', 'S', 'Done')}${end()}`,
      ),
      'BPMN.UNSUPPORTED',
      'S',
    ],
    [
      'a decision without a default flow',
      bpmn(
        `${DEFINITION}${start('X')}<bpmn:exclusiveGateway id="X" />${flow('F1', 'X', 'Done', '=a')}${flow('F2', 'X', 'Done', '=b')}${end()}`,
      ),
      'BPMN.NO_DEFAULT_FLOW',
      'X',
    ],
  ];

  it.each(cases)('given %s, then it is refused with its code and element', async (_what, xml, code, element) => {
    const issues = await refusal(xml);
    expect(codesAndElements(issues)).toEqual([[code, element]]);
    expect(issues[0].path).toBe(`bpmn.${element}`);
    expect(issues[0].message.length).toBeGreaterThan(20);
  });

  it('given several refused elements, then one issue each', async () => {
    const xml = bpmn(
      `${DEFINITION}${start('A')}<bpmn:receiveTask id="A" />${flow('F1', 'A', 'B')}<bpmn:subProcess id="B" />${flow('F2', 'B', 'Done')}${end()}`,
    );
    expect(codesAndElements(await refusal(xml))).toEqual([
      ['BPMN.UNSUPPORTED', 'A'],
      ['BPMN.UNSUPPORTED', 'B'],
    ]);
  });

  it('given several executable processes, then BPMN.SEVERAL_PROCESSES on each; the processId option chooses one', async () => {
    const second = `<bpmn:process id="Other" isExecutable="true"><bpmn:startEvent id="S2" />${flow('F2', 'S2', 'E2')}<bpmn:endEvent id="E2" /></bpmn:process>`;
    const xml = bpmn(`${DEFINITION}${start('Done')}${end()}`, { roots: second });
    expect(codesAndElements(await refusal(xml))).toEqual([
      ['BPMN.SEVERAL_PROCESSES', 'Invoice_approval'],
      ['BPMN.SEVERAL_PROCESSES', 'Other'],
    ]);
    const chosen = await importBpmn(xml, { processId: 'Other', relatedEntity: 'Invoice' });
    expect(chosen.document).toMatchObject({ key: 'other', start: 'E2' });
    expect(codesAndElements(await refusal(xml, { processId: 'Nope' }))).toEqual([['BPMN.NO_PROCESS', undefined]]);
  });

  it('given a user task without an assignee and the unassignedRole option, then the task goes to that role (and only then)', async () => {
    const xml = around(userTask('X', ''));
    expect(codesAndElements(await refusal(xml))).toEqual([['BPMN.NO_ASSIGNEE', 'X']]);
    const { document } = await importBpmn(xml, { unassignedRole: 'clerk' });
    expect((document.activities as Record<string, unknown>).X).toMatchObject({
      type: 'human',
      assignee: { role: 'clerk' },
    });
    const own = await importBpmn(around(userTask('X', assigned)), { unassignedRole: 'clerk' });
    expect((own.document.activities as Record<string, unknown>).X).toMatchObject({ assignee: { user: 'alice' } });
  });

  it('given a parallel gateway that joins two flows and forks into two, then it is a join whose next forks', async () => {
    const fork = `<bpmn:parallelGateway id="Split" />${flow('S1', 'Split', 'A')}${flow('S2', 'Split', 'B')}`;
    const tasks = `${task('A', 'Both')}${task('B', 'Both')}`;
    const both = `<bpmn:parallelGateway id="Both" />${flow('J1', 'Both', 'C')}${flow('J2', 'Both', 'D')}`;
    const after = `${task('C', 'Done')}${task('D', 'Done')}${end()}`;
    const xml = bpmn(`${DEFINITION}${start('Split')}${fork}${tasks}${both}${after}`);
    const { document } = await importBpmn(xml);
    expect((document.activities as Record<string, unknown>).Both).toEqual({ type: 'join', next: ['C', 'D'] });
    const conditioned = `<bpmn:inclusiveGateway id="Both" />${flow('J1', 'Both', 'C', '=true')}${flow('J2', 'Both', 'D', '=false')}`;
    const refused = bpmn(`${DEFINITION}${start('Split')}${fork}${tasks}${conditioned}${after}`);
    expect(codesAndElements(await refusal(refused))).toEqual([['BPMN.UNSUPPORTED', 'Both']]);
  });

  it('given a file without a process (a collaboration of empty pools), then BPMN.NO_PROCESS', async () => {
    const xml = `<bpmn:definitions ${NS} id="D"><bpmn:collaboration id="C"><bpmn:participant id="P" name="Customer" /></bpmn:collaboration></bpmn:definitions>`;
    expect(codesAndElements(await refusal(xml))).toEqual([['BPMN.NO_PROCESS', undefined]]);
  });
});

describe('importBpmn, hostile and broken input answers issues, never throws raw', () => {
  it.each([
    ['not XML', 'hello'],
    ['truncated XML', `<bpmn:definitions ${NS} id="D"><bpmn:process id="p"`],
    ['an empty text', '  '],
    [
      'an unknown attribute in the BPMN namespace',
      bpmn(`${DEFINITION}${start('Done')}<bpmn:endEvent id="Done" colour="red" />`),
    ],
    ['a flow to an element that does not exist', bpmn(`${DEFINITION}${start('Nowhere')}`)],
  ])('given %s, then BPMN.INVALID_XML', async (_what, xml) => {
    const issues = await refusal(xml);
    expect(issues.length).toBeGreaterThan(0);
    expect(issues.every((issue) => issue.code === 'BPMN.INVALID_XML')).toBe(true);
  });

  it('given a DOCTYPE with entities (billion laughs), then it is refused before parsing', async () => {
    const xml = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>${bpmn('')}`;
    const issues = await refusal(xml);
    expect(issues).toEqual([expect.objectContaining({ path: 'bpmn', code: 'BPMN.INVALID_XML' })]);
    expect(issues[0].message).toMatch(/DOCTYPE/);
  });

  it('given more than the size limit, then BPMN.TOO_LARGE', async () => {
    const xml = bpmn(`<!-- ${'x'.repeat(1024 * 1024)} -->`);
    expect(codesAndElements(await refusal(xml))).toEqual([['BPMN.TOO_LARGE', undefined]]);
  });

  it('given 10,000 elements, then BPMN.TOO_LARGE on the process', async () => {
    let body = `${DEFINITION}${start('T0')}`;
    for (let i = 0; i < 10_000; i++) body += `<bpmn:task id="T${i}" />`;
    const issues = await refusal(bpmn(body));
    expect(codesAndElements(issues)).toEqual([['BPMN.TOO_LARGE', 'Invoice_approval']]);
    expect(MAX_BPMN_FLOW_ELEMENTS).toBeLessThan(10_000);
  });

  it('given deeply nested extension elements, then an answer (the unknown elements are ignored or refused)', async () => {
    const depth = 20_000;
    const nested = '<x:a xmlns:x="urn:x">'.repeat(depth) + '</x:a>'.repeat(depth);
    const xml = bpmn(`${DEFINITION}${start('Done')}<bpmn:endEvent id="Done">${ext(nested)}</bpmn:endEvent>`);
    const issues = await refusal(xml);
    expect(codesAndElements(issues)).toEqual([['BPMN.UNSUPPORTED', 'Done']]);
  });

  it('given many refused elements, then the list is cut at 100 with a last issue saying how many more', async () => {
    let body = `${DEFINITION}${start('R0')}`;
    for (let i = 0; i < 150; i++)
      body += `<bpmn:receiveTask id="R${i}" />${flow(`F${i}`, `R${i}`, i === 149 ? 'Done' : `R${i + 1}`)}`;
    const issues = await refusal(bpmn(`${body}${end()}`));
    expect(issues).toHaveLength(101);
    expect(issues[100]).toEqual(
      expect.objectContaining({ code: 'BPMN.TOO_MANY_PROBLEMS', message: '50 more problem(s) not listed' }),
    );
  });
});
