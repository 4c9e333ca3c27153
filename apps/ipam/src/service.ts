/**
 * Builds the whole service: NATS connection, the JetStream transport with its leadership, and the Nest
 * application (allocator, queries, HTTP). main.ts runs it; tests start it in-process.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
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
import { ProblemFilter } from './http/problem.filter.js';
import { sendProblem } from './http/problem.js';
import { AUTHENTICATOR, docsAuth } from './auth/auth.guard.js';
import type { Authenticator } from './auth/authenticator.js';
import type { IpamEnv } from './config/ipam.config.js';
import { AppLogger, NestPinoLogger } from './logging/logger.js';
import { connectNats } from './nats.connect.js';
import { KvLeadership } from './leadership.js';

export interface IpamService {
  app: NestExpressApplication;
  server: JetStreamServer;
  allocator: AllocatorService;
  connection: NatsConnection;
  /** the HTTP address actually bound */
  httpUrl: string;
  close(): Promise<void>;
}

export async function startIpamService(config: IpamEnv, logger: AppLogger): Promise<IpamService> {
  const connection = await connectNats(config, logger);
  const leadership = await untilAvailable(() => KvLeadership.open(connection, config, logger), {
    onRetry: (err, delayMs) =>
      logger.warn({ err: String(err), retryInMs: delayMs }, 'lease bucket not reachable yet; retrying'),
  });
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
  });
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot({ config, logger, connection, server }),
    { logger: new NestPinoLogger(logger) },
  );
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
  app.use(['/docs', '/openapi.json'], docsAuth(app.get<Authenticator>(AUTHENTICATOR), (res, p) => sendProblem(res, p.toProblem())));
  SwaggerModule.setup('docs', app, openApiDocument(app), { jsonDocumentUrl: 'openapi.json' });
  if (serveConsole(app) === null)
    logger.info({}, 'the web console is not built (npm run build); / serves nothing');
  const allocator = app.get(AllocatorService);
  const audit = app.get(AuditService);
  allocator.attach(server, () => leadership.isLeader());
  server.on('caught-up', () => allocator.onCaughtUp());
  server.on('leader', (leader) => allocator.onLeadership(leader));
  server.on('reset', (reason) => {
    allocator.reset(reason);
    audit.reset();
  });
  app.connectMicroservice({ strategy: server }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  // loadConfig always settles HTTP_HOST (loopback unless HTTP authentication is configured)
  const bind = config.HTTP_HOST ?? '127.0.0.1';
  await app.listen(config.HTTP_PORT, bind);
  const address = app.getHttpServer().address() as { port: number } | null;
  const host = bind === '0.0.0.0' ? '127.0.0.1' : bind;
  const httpUrl = `http://${host}:${address?.port ?? config.HTTP_PORT}`;
  logger.info({ http: httpUrl, stream: config.IPAM_STREAM }, 'ipam service started');
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
