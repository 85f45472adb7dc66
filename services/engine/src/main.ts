import { createServer } from 'node:http';
import { EngineRuntime } from './engine-runtime';
import { loadConfig } from './shared/config';

/**
 * The engine alone (distributed mode): ingest from Kafka, process manager, timers, outbox relay.
 * It serves only /health and /metrics; the API runs as its own process (services/api).
 */
async function main(): Promise<void> {
  const config = loadConfig(process.env, { engine: true, api: false });
  const engine = await EngineRuntime.create(config);
  await engine.start();
  const server = createServer((request, response) => {
    void (async () => {
      if (request.url === '/health/live') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ ok: true }));
      } else if (request.url === '/health' || request.url === '/health/ready') {
        const { ok, reactions, kafka, ownership } = engine.health();
        response.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            ok,
            role: 'engine',
            head: await engine.store.headPosition(),
            reactions,
            ...(kafka ? { kafka } : {}),
            ...(ownership ? { ownership } : {}),
            counters: await engine.metrics.counters(),
          }),
        );
      } else if (request.url === '/metrics') {
        const text = await engine.metrics.text();
        response.writeHead(200, { 'content-type': engine.metrics.contentType });
        response.end(text);
      } else {
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            error: {
              code: 'NOT_FOUND',
              message: 'The engine serves /health, /health/live, /health/ready and /metrics only',
            },
          }),
        );
      }
    })().catch((err: unknown) => {
      engine.logger.error({ err }, 'health request failed');
      response.writeHead(500).end();
    });
  });
  server.listen(config.port, config.host, () => {
    engine.logger.info(
      { port: config.port, source: config.entitySource, store: config.eventStore.kind },
      'engine running',
    );
  });
  const stop = async (signal: string) => {
    engine.logger.info({ signal }, 'stopping');
    server.close();
    await engine.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Lifeline engine failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
