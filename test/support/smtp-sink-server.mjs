// A real SMTP server as its own process, for tests: every message it accepts is written to
// <dir>/<n>.json as { from, to, raw }. SMTP_SINK_FAIL_FIRST=N answers the first N messages with
// "451 try again later" (a transient failure a sender must retry); SMTP_SINK_REJECT=a@x,b@y refuses those
// recipients with 550 (a permanent one). Prints "listening <port>" once ready.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';

const dir = process.env.SMTP_SINK_DIR;
if (!dir) throw new Error('SMTP_SINK_DIR is required');
mkdirSync(dir, { recursive: true });
let failFirst = Number(process.env.SMTP_SINK_FAIL_FIRST ?? 0);
const rejected = new Set((process.env.SMTP_SINK_REJECT ?? '').split(',').filter(Boolean));
let received = 0;

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onRcptTo(address, session, callback) {
    if (!rejected.has(address.address)) return callback();
    const error = new Error('no such mailbox');
    error.responseCode = 550;
    return callback(error);
  },
  onData(stream, session, callback) {
    const chunks = [];
    stream.on('data', (chunk) => chunks.push(chunk));
    stream.on('end', () => {
      if (failFirst > 0) {
        failFirst -= 1;
        const error = new Error('try again later');
        error.responseCode = 451;
        return callback(error);
      }
      received += 1;
      writeFileSync(
        join(dir, `${String(received).padStart(6, '0')}.json`),
        JSON.stringify({
          from: session.envelope.mailFrom && session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      callback();
    });
  },
});
server.listen(Number(process.env.SMTP_SINK_PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${server.server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
