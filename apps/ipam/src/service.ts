/**
 * Builds the whole service: the HTTP port first (bound before anything connects: a port in use fails at
 * once, and /healthz answers while NATS is out of reach), then the NATS connection, the JetStream
 * transport with its leadership, and the Nest application (allocator, queries, HTTP) behind the port.
 * main.ts runs it; tests start it in-process. Resolves once everything is up.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import type { NatsConnection } from '@nats-io/transport-node';
import { ensureIpamStream, untilAvailable } from '../../../libs/jetstream/src/index.js';
import { JetStreamServer } from '../../../libs/nest-jetstream/src/index.js';
import { AppModule } from './app.module.js';
import { AllocatorService } from './allocator/allocator.service.js';
import { AuditService } from './audit/audit.service.js';
import { bodyDepthLimit, bodyParserErrors } from './http/body-errors.js';
import { openApiDocument } from './http/openapi.js';
import { serveConsole } from './http/console.static.js';
import { HttpFront, openHttpFront } from './http/listen.js';
import { ProblemFilter } from './http/problem.filter.js';
import { sendProblem } from './http/problem.js';
import { AUTHENTICATOR, docsAuth } from './auth/auth.guard.js';
import type { Authenticator } from './auth/authenticator.js';
import type { IpamEnv } from './config/ipam.config.js';
import { AppLogger, NestPinoLogger } from './logging/logger.js';
import { connectNats } from './nats.connect.js';
import { KvLeadership } from './leadership.js';
import { StateSnapshots } from './allocator/snapshots.js';

export interface IpamService {
  app: NestExpressApplication;
  server: JetStreamServer;
  allocator: AllocatorService;
  connection: NatsConnection;
  /** the HTTP address actually bound */
  httpUrl: string;
  close(): Promise<void>;
}

export interface StartOptions {
  /** the HTTP port, bound already (main.ts binds it before loading this module); else bound here */
  front?: HttpFront;
  /** aborts the wait for NATS (a signal while starting) */
  signal?: AbortSignal;
}

/**
 * Nest's express adapter serving on the server the front bound before the application was built (Nest
 * would create its own): `app.close()` closes that one.
 */
class FrontExpressAdapter extends ExpressAdapter {
  constructor(private readonly front: HttpFront) {
    super();
  }
  override initHttpServer(): void {
    this.httpServer = this.front.server;
  }
}

export async function startIpamService(
  config: IpamEnv,
  logger: AppLogger,
  options: StartOptions = {},
): Promise<IpamService> {
  // nothing has connected yet: a port in use is an HttpListenError (exit code 2), nothing to undo
  const front = options.front ?? (await openHttpFront(config, logger));
  let connection: NatsConnection | undefined;
  let app: NestExpressApplication | undefined;
  try {
    connection = await connectNats(config, logger, options.signal);
    return await startOnNats(config, logger, connection, front, (a) => (app = a));
  } catch (e) {
    if (app) await app.close().catch(() => undefined);
    await front.close();
    await connection?.close().catch(() => undefined);
    throw e;
  }
}

/**
 * After a start from a snapshot: the audit read model of the stream before it, built once this instance
 * has caught up with the stream (out of the way of the start and of decisions; see AuditService).
 */
function buildAuditPrefix(server: JetStreamServer, audit: AuditService, logger: AppLogger): void {
  const wait = setInterval(() => {
    if (!server.caughtUp) return;
    clearInterval(wait);
    void audit.buildPrefix((err, ms) => {
      if (err !== null) logger.warn({ err: String(err) }, 'building the audit read model failed');
      else if (!audit.building)
        logger.info(
          {
            ms: Math.round(ms),
            inWorker: audit.workerError === null,
            workerError: audit.workerError ?? undefined,
          },
          'audit read model built',
        );
    });
  }, 200);
  wait.unref();
}

async function startOnNats(
  config: IpamEnv,
  logger: AppLogger,
  connection: NatsConnection,
  front: HttpFront,
  created: (app: NestExpressApplication) => void,
): Promise<IpamService> {
  front.waitingFor('jetstream');
  const leadership = await untilAvailable(() => KvLeadership.open(connection, config, logger), {
    onRetry: (err, delayMs) =>
      logger.warn({ err: String(err), retryInMs: delayMs }, 'lease bucket not reachable yet; retrying'),
  });
  const snapshots = await untilAvailable(() => StateSnapshots.open(connection, config, logger), {
    onRetry: (err, delayMs) =>
      logger.warn({ err: String(err), retryInMs: delayMs }, 'snapshot bucket not reachable yet; retrying'),
  });
  let restoreInto: AllocatorService | null = null;
  front.waitingFor('app');
  const server = new JetStreamServer({
    connection,
    stream: config.IPAM_STREAM,
    durable: config.IPAM_CONSUMER,
    leadership,
    logger,
    prepare: async (jsm) => {
      const r = await ensureIpamStream(jsm, {
        name: config.IPAM_STREAM,
        replicas: config.IPAM_STREAM_REPLICAS,
        denyDeleteAndPurge: true,
      });
      logger.info({ stream: config.IPAM_STREAM, created: r.created, warnings: r.warnings }, 'stream ready');
    },
    // the newest usable snapshot, then the stream after it (allocator/snapshots.ts)
    restore: () => (restoreInto === null ? Promise.resolve(0) : snapshots.restore(restoreInto)),
  });
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot({ config, logger, connection, server }),
    new FrontExpressAdapter(front),
    { logger: new NestPinoLogger(logger) },
  );
  created(app);
  // every parser registered here, before the error middleware (Nest would add json and urlencoded later);
  // bodies are capped at the input limit, so nothing is accepted here that the stream would refuse
  const limit = config.IPAM_MAX_BODY_BYTES;
  app.useBodyParser('json', { limit });
  app.useBodyParser('urlencoded', { limit, extended: true });
  app.useBodyParser('text', {
    type: ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain'],
    limit,
  });
  app.use(bodyDepthLimit);
  app.use(bodyParserErrors(limit, logger));
  app.useGlobalFilters(new ProblemFilter(logger));
  app.use(
    ['/docs', '/openapi.json'],
    docsAuth(app.get<Authenticator>(AUTHENTICATOR), (res, p) => sendProblem(res, p.toProblem())),
  );
  SwaggerModule.setup('docs', app, openApiDocument(app), { jsonDocumentUrl: 'openapi.json' });
  const consoleDir = serveConsole(app);
  if (consoleDir === null) logger.info({}, 'the web console is not built (npm run build); / serves nothing');
  const allocator = app.get(AllocatorService);
  const audit = app.get(AuditService);
  allocator.attach(server, () => leadership.isLeader());
  allocator.useSnapshots(snapshots);
  restoreInto = allocator;
  server.on('restored', (seq) => {
    allocator.restored(seq);
    audit.restoredAt(seq);
    if (seq > 0) buildAuditPrefix(server, audit, logger);
  });
  server.on('caught-up', () => allocator.onCaughtUp());
  server.on('leader', (leader) => allocator.onLeadership(leader));
  server.on('reset', (reason) => {
    allocator.reset(reason);
    audit.reset();
  });
  app.connectMicroservice({ strategy: server }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  // the port is bound already (the front): init registers the routes, then requests go to them
  await app.init();
  front.open(app.getHttpAdapter().getInstance());
  const httpUrl = front.url;
  const nats = front.nats;
  const where = {
    api: `${httpUrl}/v1/`,
    console: consoleDir === null ? null : `${httpUrl}/`,
    openapi: `${httpUrl}/docs`,
    nats,
  };
  logger.info(
    { http: httpUrl, stream: config.IPAM_STREAM },
    `ipam service started: API ${where.api}, console ${where.console ?? '(not built)'}, OpenAPI ${where.openapi}, NATS ${nats} (stream ${config.IPAM_STREAM})`,
  );
  let closed = false;
  return {
    app,
    server,
    allocator,
    connection,
    httpUrl,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await connection.drain().catch(() => undefined);
    },
  };
}
