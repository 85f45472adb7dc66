import type { ProcessDefinition } from '@lifeline/process-domain';

/** The README's invoice approval, normalised as the validator returns it. */
export const invoiceApproval = (): ProcessDefinition => ({
  key: 'invoice-approval',
  name: 'Invoice approval',
  relatedEntity: 'Invoice',
  executionOrder: 10,
  enabled: true,
  triggers: [
    { on: 'created', when: 'entity.amount > 0' },
    { on: 'updated', fields: ['status'], when: 'entity.status = "Reopened"', delay: 'PT10M' },
  ],
  start: 'review',
  activities: {
    review: {
      type: 'human',
      title: 'Review the invoice',
      instructions: 'Check the supplier and the amount.',
      hint: 'Invoices above 10000 need a second look.',
      assignee: { role: 'accounting' },
      dueIn: 'P2D',
      results: ['Approve', 'Reject'],
      form: [{ name: 'comment', type: 'text', required: false }],
      next: 'route',
    },
    route: {
      type: 'decision',
      branches: [{ when: 'review.result = "Approve"', next: 'awaitClearance' }],
      otherwise: 'rejected',
    },
    awaitClearance: {
      type: 'wait',
      until: 'entity.status = "ClearedForPayment"',
      timeout: 'P30D',
      onTimeout: 'escalate',
      next: 'pay',
    },
    pay: {
      type: 'human',
      title: 'Pay the invoice',
      assignee: { userFrom: 'entity.ownerId' },
      question: { text: 'How was it paid?', options: ['Transfer', 'Card', 'Cash'], multiple: false },
      next: 'done',
    },
    escalate: {
      type: 'automatic',
      set: { escalated: '"true"' },
      emit: { topic: 'invoice-commands', type: 'EscalateInvoice', payload: { invoice: 'entity.number' } },
      next: 'done',
    },
    rejected: { type: 'end' },
    done: { type: 'end' },
  },
});

export const T0 = '2026-11-21T10:00:00.000Z';
export const at = (offsetMs: number): string => new Date(Date.parse(T0) + offsetMs).toISOString();
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
