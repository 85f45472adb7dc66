/** The invoice every bench posts: record `<run>-INV-<i>` created, in the seed definition's shape. */
export const invoiceEnvelope = (
  run: string,
  i: number,
  data: Record<string, unknown> = {},
  occurredAt: string = new Date().toISOString(),
) => ({
  id: `${run}-${i}`,
  entityType: 'Invoice',
  entityId: `${run}-INV-${i}`,
  kind: 'created' as const,
  occurredAt,
  data: { number: `INV-${i}`, amount: 100 + (i % 1000), status: 'New', ownerId: 'alice', ...data },
});
