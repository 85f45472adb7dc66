export { invoiceEnvelope } from '@lifeline/process-domain';
