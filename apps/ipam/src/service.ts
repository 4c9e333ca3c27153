/**
 * Builds the whole service: NATS connection, the JetStream transport with its leadership, and the Nest
 * application (allocator, queries, HTTP). main.ts runs it; tests start it in-process.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { NatsConnection } from '@nats-io/transport-node';
import { ensureIpamStream, untilAvailable } from '../../../libs/jetstream/src/index.js';
import { JetStreamServer } from '../../../libs/nest-jetstream/src/index.js';
import { AppModule } from './app.module.js';
import { AllocatorService } from './allocator/allocator.service.js';
import { AuditService } from './audit/audit.service.js';
import { BODY_LIMIT, bodyParserErrors } from './http/body-errors.js';
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
      });
      logger.info({ stream: config.IPAM_STREAM, created: r.created, warnings: r.warnings }, 'stream ready');
    },
  });
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot({ config, logger, connection, server }),
    { logger: new NestPinoLogger(logger) },
  );
  // every parser registered here, before the error middleware (Nest would add json and urlencoded later)
  app.useBodyParser('json', { limit: BODY_LIMIT });
  app.useBodyParser('urlencoded', { limit: BODY_LIMIT, extended: true });
  app.useBodyParser('text', {
    type: ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain'],
    limit: BODY_LIMIT,
  });
  app.use(bodyParserErrors);
  const openapi = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('IPAM')
      .setDescription(
        'Event-sourced IP address allocation for load balancers (Harvester IP pool semantics) on NATS JetStream',
      )
      .setVersion('1')
      .build(),
  );
  SwaggerModule.setup('docs', app, openapi, { jsonDocumentUrl: 'openapi.json' });
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
  await app.listen(config.HTTP_PORT, config.HTTP_HOST);
  const address = app.getHttpServer().address() as { port: number } | null;
  const host = config.HTTP_HOST === '0.0.0.0' ? '127.0.0.1' : config.HTTP_HOST;
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
