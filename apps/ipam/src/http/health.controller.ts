/** Liveness, readiness and metrics over HTTP. */
import { Controller, Get, Header, HttpException, HttpStatus } from '@nestjs/common';
import { AllocatorService } from '../allocator/allocator.service.js';
import { AllocatorMetrics } from '../allocator/allocator.metrics.js';
import { ReadinessService } from './readiness.service.js';

@Controller()
export class HealthController {
  constructor(
    private readonly allocator: AllocatorService,
    private readonly metrics: AllocatorMetrics,
    private readonly readiness: ReadinessService,
  ) {}

  @Get('healthz')
  healthz() {
    return { status: 'ok' };
  }

  @Get('readyz')
  async readyz() {
    const r = await this.readiness.check();
    if (!r.ready) throw new HttpException({ status: 'not ready', ...r }, HttpStatus.SERVICE_UNAVAILABLE);
    return { status: 'ready', ...r, live: this.allocator.isLive };
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  async prometheus() {
    return this.metrics.registry.metrics();
  }
}
