import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Module, type DynamicModule } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import express from 'express';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { getTask, ReadModels, tasksFallingDue } from '@lifeline/read-models';
import {
  BPMN_MEDIA_TYPES,
  EngineModule,
  EngineRuntime,
  StoredRecords,
  type Clock,
  type LifelineConfig,
} from '@lifeline/engine';
import type { EventStore } from '@lifeline/event-store';
import { findDuplicateKey } from '@lifeline/process-domain';
import { ApiModule } from './api.module';
import { RequestInvalid } from './http/api-errors';
import { LifelineExpressAdapter } from './http/express-adapter';
import { servedReadModelsFile } from './http/read-models-file';
import { Metrics } from './health/metrics';
import { DOMAIN_SCHEMAS } from './http/domain-schemas';
import type { DemoUser } from './auth/demo-users.controller';
import { completeDocument } from './http/openapi';
import { methodNotAllowed } from './http/method-not-allowed';
import { traceRequests } from './http/origin';
import { unsupportedMediaType } from './http/media-type';
import { inOrder } from './http/in-order';
import { loadBodyCodecs } from './http/body-codecs';
import { VENDOR_PREFIX, webVendor } from './http/web-vendor';
import { AsOfPool } from '@lifeline/audit';

/** The web UI's built assets (copied beside the compiled code by the build). */
export const WEB_DIR = join(__dirname, '..', 'web');

/** Request bodies above this are refused with 413 REQUEST.TOO_LARGE. */
export const MAX_BODY = '1mb';
/** JSON nested deeper than this is refused before validation: Nest's ValidationPipe recurses and would overflow the stack. */
export const MAX_BODY_DEPTH = 64;

function refuseDeepBodies(request: express.Request, _response: express.Response, next: express.NextFunction): void {
  const stack: [unknown, number][] = [[request.body, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_BODY_DEPTH) {
      return next(
        new RequestInvalid('REQUEST.TOO_DEEP', `The request body is nested deeper than ${MAX_BODY_DEPTH} levels`),
      );
    }
    for (const item of Object.values(value))
      if (item !== null && typeof item === 'object') stack.push([item, depth + 1]);
  }
  next();
}

/** The raw JSON body as received, kept by the body parser's verify hook for the duplicate-key check. */
const RAW_JSON = Symbol('raw JSON body');
type WithRawJson = express.Request & { [RAW_JSON]?: { bytes: Buffer; charset: string } };

function keepRawJson(request: express.Request, _response: unknown, bytes: Buffer, charset: string): void {
  (request as WithRawJson)[RAW_JSON] = { bytes, charset };
}

/** JSON.parse keeps the last of a repeated key; nobody can know which value the client meant, so it is refused. */
function refuseDuplicateKeys(request: express.Request, _response: express.Response, next: express.NextFunction): void {
  const raw = (request as WithRawJson)[RAW_JSON];
  if (raw === undefined) return next();
  delete (request as WithRawJson)[RAW_JSON];
  let text: string;
  try {
    text = new TextDecoder(raw.charset).decode(raw.bytes);
  } catch {
    // A charset the body parser decodes but TextDecoder does not (UTF-32): unchecked JSON is not let through.
    const unsupported = Object.assign(new Error(`Unsupported charset "${raw.charset}" for JSON; send UTF-8`), {
      type: 'charset.unsupported',
      status: 415,
    });
    return next(unsupported);
  }
  const duplicate = findDuplicateKey(text, request.body);
  if (duplicate === undefined) return next();
  next(
    new RequestInvalid(
      'REQUEST.DUPLICATE_KEY',
      `The request body has the key '${duplicate.key}' twice in one object (${duplicate.path}); which value was meant cannot be known`,
      [{ path: duplicate.path, message: `duplicate key '${duplicate.key}'` }],
    ),
  );
}

export interface LifelineApp {
  app: NestExpressApplication;
  engine: EngineRuntime;
  readModels: ReadModels;
  metrics: Metrics;
  /** The worker threads of `?asOf=` queries. */
  asOf: AsOfPool;
  url: string;
  close(): Promise<void>;
}

/**
 * Builds one Lifeline process: the engine (write side, process manager, timers) and the API
 * (read models, HTTP). Embedded mode hosts both; each can also run alone.
 */
export async function createLifelineApp(
  config: LifelineConfig & { jwtSecret: string },
  deps: {
    clock?: Clock;
    /** What tokens are checked against; the system clock unless a test drives token expiry. */
    authClock?: Clock;
    store?: EventStore;
    listen?: boolean;
    /** Embedded mode with a development secret: the sign-in picker's users, with tokens issued on each call. */
    demoUsers?: () => DemoUser[];
    /** Work the first request must find done (the embedded start's demo definitions): runs after the engine starts, before listening. */
    beforeListen?: (engine: EngineRuntime) => Promise<void>;
  } = {},
): Promise<LifelineApp> {
  const engine = await EngineRuntime.create(config, { clock: deps.clock, store: deps.store });
  const readModels = ReadModels.open(servedReadModelsFile(config.dataDir), {
    onError: (err) => engine.logger.error({ err }, 'read-model projection failed'),
    startCatchUpWaitMs: config.readModelsStartWaitMs,
  });
  const metrics = Metrics.forApi(engine.metrics, readModels, engine.clock);
  // As-of rebuilds replay the whole log: off the event loop, on threads that open the store themselves.
  const asOf = new AsOfPool({ store: config.eventStore, ...config.asOf });
  @Module({
    imports: [
      EngineModule.forRuntime(engine),
      ApiModule.forDependencies({
        readModels,
        jwtSecret: config.jwtSecret,
        tokenMaxLifetimeSeconds: config.tokenMaxLifetimeSeconds,
        oidc: config.oidc,
        authClock: deps.authClock,
        logger: engine.logger,
        metrics,
        demoUsers: deps.demoUsers,
        asOf,
      }),
    ],
  })
  class LifelineModule {}
  const app = await NestFactory.create<NestExpressApplication>(
    LifelineModule as unknown as DynamicModule,
    new LifelineExpressAdapter(),
    {
      bodyParser: false,
      logger: ['error', 'warn'],
    },
  );
  app.disable('x-powered-by');
  // No ETag on API answers: hashing every body cost about a tenth of a small request, and no client sends
  // If-None-Match to the API (the web UI's static assets keep their own ETags).
  app.set('etag', false);
  const document = completeDocument(
    SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Lifeline')
        .setDescription('Business processes around your records: definitions, instances, tasks, timelines')
        .setVersion('1')
        .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
        .build(),
    ),
    DOMAIN_SCHEMAS,
  );
  // The web UI is index.html and assets/: only those paths look for a file (the API's own requests never stat the disk).
  const web = express.static(WEB_DIR, { index: 'index.html', fallthrough: true, maxAge: 0 });
  const vendor = webVendor();
  const webAssets = (request: express.Request, response: express.Response, next: express.NextFunction) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return next();
    if (request.path.startsWith(VENDOR_PREFIX)) return vendor(request, response, next);
    const asset = request.path === '/' || request.path === '/index.html' || request.path.startsWith('/assets/');
    if (asset) return web(request, response, next);
    next();
  };
  loadBodyCodecs();
  // Every request passes these, in this order: one Express layer for all of them.
  app.use(
    inOrder(
      metrics.middleware(),
      ...(engine.tracing.enabled ? [traceRequests(engine.tracing)] : []),
      express.json({
        limit: MAX_BODY,
        strict: false,
        type: ['application/json', 'application/*+json'],
        verify: keepRawJson,
      }),
      refuseDeepBodies,
      refuseDuplicateKeys,
      express.text({
        limit: MAX_BODY,
        type: ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain', ...BPMN_MEDIA_TYPES],
      }),
      webAssets,
      methodNotAllowed(document),
      unsupportedMediaType(document),
    ),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
  // The write path's own commits reach the read models before their callers are answered.
  engine.store.onCommitted((events) => readModels.applyCommitted(events));
  if (!config.runEngine) {
    // No reactor here: the record's latest data comes from the shared log, which other processes write to too.
    engine.useRecords(new StoredRecords(engine.store));
  }
  await readModels.start(engine.store);
  const catchingUp = readModels.catchingUp();
  if (catchingUp.length > 0) {
    engine.logger.warn(
      { views: catchingUp },
      'read models still being built from the log: their queries answer 503 READ_MODEL.CATCHING_UP until done',
    );
  }
  engine.useTaskLookup({
    task: (taskId) => {
      const task = getTask(readModels.db, taskId);
      return task ? { title: task.title, dueAt: task.dueAt, entity: task.entity, assignee: task.assignee } : undefined;
    },
    fallingDue: (after, upTo, limit, assignedOnly) => tasksFallingDue(readModels.db, after, upTo, limit, assignedOnly),
  });
  await engine.start();
  keepIdleConnections(app.getHttpServer() as Server);
  await deps.beforeListen?.(engine);
  if (deps.listen !== false) await app.listen(config.port, config.host);
  const address = deps.listen !== false ? app.getHttpServer().address() : null;
  const port = address && typeof address === 'object' ? address.port : config.port;
  return {
    app,
    engine,
    readModels,
    metrics,
    asOf,
    url: `http://${config.host}:${port}`,
    async close() {
      // Workers first: an as-of request in flight is answered 503 at once instead of holding the HTTP close.
      await asOf.close();
      await app.close();
      await readModels.close();
      await engine.close();
    },
  };
}

/**
 * How long an idle keep-alive connection stays open: longer than the idle timeouts of the clients and proxies in
 * front (60 s is the common one). Node's 5 s closes first, and a client that sends its next request on the socket
 * as the server closes it gets "other side closed" (a proxy answers 502).
 */
export const HTTP_KEEP_ALIVE_MS = 65_000;

function keepIdleConnections(server: Server): void {
  server.keepAliveTimeout = HTTP_KEEP_ALIVE_MS;
  // Must exceed keepAliveTimeout, or a request arriving late on an idle socket is cut off mid-headers.
  server.headersTimeout = HTTP_KEEP_ALIVE_MS + 1_000;
}
