/** A lost or refused connection, or the server shutting down (SQLSTATE classes 08 and 57P): worth a retry. */
export function isConnectionLost(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(code)) return true;
    if (code.startsWith('08') || code.startsWith('57P')) return true;
  }
  return typeof message === 'string' && /Connection terminated/i.test(message);
}
