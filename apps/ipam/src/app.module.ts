import { DynamicModule, Module } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import type { IpamEnv } from './config/ipam.config.js';
import type { AppLogger } from './logging/logger.js';
import {
  IPAM_CONFIG,
  IPAM_LOGGER,
  JETSTREAM,
  JETSTREAM_SERVER,
  NATS_CONNECTION,
  OUTCOME_PUBLISHER,
} from './tokens.js';
import { PubAckPipeline } from '../../../libs/jetstream/src/index.js';
import type { JetStreamServer } from '../../../libs/nest-jetstream/src/index.js';
import { ReadinessService } from './http/readiness.service.js';
import { AllocatorService } from './allocator/allocator.service.js';
import { AllocatorMetrics } from './allocator/allocator.metrics.js';
import { InputEventsController } from './allocator/input-events.controller.js';
import { OutcomeEventsController } from './allocator/outcome-events.controller.js';
import { QueryController } from './allocator/query.controller.js';
import { HealthController } from './http/health.controller.js';
import { PoolsController } from './http/pools.controller.js';
import { LoadBalancersController } from './http/loadbalancers.controller.js';
import { AuditController } from './http/audit.controller.js';
import { EventsController } from './http/events.controller.js';
import { EventsService } from './http/events.service.js';
import { LoadBalancerListController } from './http/loadbalancers.list.controller.js';
import { PublishService } from './http/publish.service.js';
import { AuthController } from './auth/auth.controller.js';
import { AUTHENTICATOR } from './auth/auth.guard.js';
import { Authenticator } from './auth/authenticator.js';
import { AuditService } from './audit/audit.service.js';

export interface AppDeps {
  config: IpamEnv;
  logger: AppLogger;
  connection: NatsConnection;
  server: JetStreamServer;
}

@Module({})
export class AppModule {
  static forRoot(deps: AppDeps): DynamicModule {
    return {
      module: AppModule,
      controllers: [
        InputEventsController,
        OutcomeEventsController,
        QueryController,
        HealthController,
        PoolsController,
        LoadBalancersController,
        AuditController,
        LoadBalancerListController,
        EventsController,
        AuthController,
      ],
      providers: [
        { provide: IPAM_CONFIG, useValue: deps.config },
        { provide: IPAM_LOGGER, useValue: deps.logger },
        { provide: NATS_CONNECTION, useValue: deps.connection },
        { provide: JETSTREAM, useValue: jetstream(deps.connection) },
        { provide: JETSTREAM_SERVER, useValue: deps.server },
        { provide: OUTCOME_PUBLISHER, useValue: new PubAckPipeline(deps.connection) },
        ReadinessService,
        AllocatorMetrics,
        AllocatorService,
        AuditService,
        PublishService,
        { provide: AUTHENTICATOR, useValue: new Authenticator(deps.config.auth) },
        EventsService,
      ],
      exports: [AllocatorService, AllocatorMetrics, AuditService],
    };
  }
}
