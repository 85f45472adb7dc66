// A local SMTP server as its own process (the smtp-server package): prints {"port"} once listening, then one
// JSON line per message received ({from, to, data}). The e-mail e2e talks SMTP to it; nothing is relayed.
import { SMTPServer } from 'smtp-server';

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onData(stream, session, callback) {
    const chunks = [];
    stream.on('data', (chunk) => chunks.push(chunk));
    stream.on('end', () => {
      const message = {
        from: session.envelope.mailFrom && session.envelope.mailFrom.address,
        to: session.envelope.rcptTo.map((r) => r.address),
        data: Buffer.concat(chunks).toString('utf8'),
      };
      process.stdout.write(JSON.stringify(message) + '\n');
      callback();
    });
  },
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.server.address().port }) + '\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
