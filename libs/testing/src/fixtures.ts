export { invoiceApproval } from '@lifeline/process-domain';

export const T0 = '2026-11-21T10:00:00.000Z';
export const at = (offsetMs: number): string => new Date(Date.parse(T0) + offsetMs).toISOString();
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
