/** Finance and legal review a purchase order at once; it is approved once both have. */
export const PARALLEL_PURCHASE_ORDER = {
  key: 'purchase-order-parallel',
  name: 'Purchase order, parallel reviews',
  relatedEntity: 'PurchaseOrder',
  executionOrder: 10,
  enabled: true,
  triggers: [{ on: 'created' }],
  start: 'reviews',
  activities: {
    reviews: { type: 'parallel', branches: ['financeReview', 'legalReview'] },
    financeReview: { type: 'human', title: 'Finance review', assignee: { role: 'finance' }, next: 'reviewed' },
    legalReview: { type: 'human', title: 'Legal review', assignee: { role: 'legal' }, next: 'reviewed' },
    reviewed: { type: 'join', next: 'approve' },
    approve: { type: 'automatic', set: { approved: 'true' }, next: 'done' },
    done: { type: 'end' },
  },
};

export const purchaseOrderCreated = (id: string) => ({
  id: `evt-${id}`,
  entityType: 'PurchaseOrder',
  entityId: id,
  kind: 'created',
  occurredAt: '2026-11-30T10:00:00.000Z',
  data: { number: id, amount: 25_000, supplier: 'Acme' },
});
