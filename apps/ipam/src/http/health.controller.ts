/** Liveness, readiness and metrics over HTTP. */
import { Controller, Get, Header, HttpException, HttpStatus } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
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
  @ApiResponse({ status: 200, description: 'the process is alive' })
  healthz() {
    return { status: 'ok' };
  }

  @Get('readyz')
  @ApiResponse({ status: 200, description: 'connected, and caught up with the stream' })
  @ApiResponse({ status: 503, description: 'not ready: the same fields say why' })
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
