/** Liveness, readiness and metrics over HTTP. */
import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { AllocatorService } from '../allocator/allocator.service.js';
import { AllocatorMetrics } from '../allocator/allocator.metrics.js';
import { Guarded, HttpAuthGuard } from '../auth/auth.guard.js';
import { Open } from '../auth/roles.js';
import { ApiAnswer, ApiProblems } from './openapi.js';
import { ApiProblem } from './problem.js';
import { ReadinessService, type Readiness } from './readiness.service.js';

/** Why an instance is not ready, in words. */
function notReadyDetail(r: Readiness): string {
  if (r.reason !== null) return r.reason;
  if (!r.connected) return 'not connected to NATS (the service is reconnecting)';
  if (r.streamLastSeq === null) return 'the stream is out of reach';
  return `not caught up with the stream yet: ${r.lag ?? '?'} message(s) behind`;
}

@Controller()
@UseGuards(HttpAuthGuard)
export class HealthController {
  constructor(
    private readonly allocator: AllocatorService,
    private readonly metrics: AllocatorMetrics,
    private readonly readiness: ReadinessService,
  ) {}

  @Get('healthz')
  @Open('always')
  @ApiAnswer(200, 'Health', 'the process is alive')
  healthz() {
    return { status: 'ok' };
  }

  @Get('readyz')
  @Open('always')
  @ApiAnswer(200, 'Readiness', 'connected, caught up with the stream, and some instance deciding')
  @ApiProblems([503, 'NotReady: the readiness fields say why', 'NotReadyProblem'])
  async readyz() {
    const r = await this.readiness.check();
    if (!r.ready) throw new ApiProblem('NotReady', notReadyDetail(r), { ...r });
    return { status: 'ready', ...r, live: this.allocator.isLive };
  }

  @Get('metrics')
  @Open('metrics')
  @Guarded()
  @Header('Content-Type', 'text/plain; version=0.0.4')
  @ApiResponse({
    status: 200,
    description: 'Prometheus text exposition',
    content: { 'text/plain': { schema: { type: 'string' } } },
  })
  async prometheus() {
    return this.metrics.registry.metrics();
  }
}
