/**
 * Prometheus metrics (prom-client, a registry of our own): outcomes by subject and code, refused
 * outcomes, decision latency, HTTP requests by route, the process's and Node.js's default metrics
 * (process_*, nodejs_*), and per-pool, lag and decider figures read when scraped (registered by
 * ReadinessService through `gauge()`).
 *
 * deploy/prometheus/ipam-rules.yaml and deploy/grafana/ipam-pools.json are written against these names;
 * test/service/observability.spec.ts checks every name they use against a running service's /metrics.
 */
import { Inject, Injectable, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { IpamEvent } from '../../../../libs/ipam-domain/src/index.js';

/** The `route` label of a request no route of the API matched (the console's files, /docs, unknown paths). */
export const UNMATCHED_ROUTE = '(unmatched)';

@Injectable()
export class AllocatorMetrics {
  readonly registry = new Registry();
  readonly outcomes = new Counter({
    name: 'ipam_outcomes_total',
    help: 'Outcome events published by this instance, by subject and rejection code',
    labelNames: ['subject', 'code'],
    registers: [this.registry],
  });
  readonly refused = new Counter({
    name: 'ipam_outcomes_refused_total',
    help: 'Stored outcomes the fold refused (never applied), by subject and reason: differs (not this build decision), stale (input already answered), unreadable',
    labelNames: ['subject', 'reason'],
    registers: [this.registry],
  });
  readonly decisionSeconds = new Histogram({
    name: 'ipam_decision_seconds',
    help: 'Time to decide one input and hand its outcome to JetStream',
    buckets: [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05],
    registers: [this.registry],
  });
  readonly httpRequests = new Counter({
    name: 'ipam_http_requests_total',
    help: `HTTP requests answered, by method, route (the route pattern such as /v1/pools/:name; ${UNMATCHED_ROUTE} when no API route matched) and status`,
    labelNames: ['method', 'route', 'status'],
    registers: [this.registry],
  });
  readonly httpSeconds = new Histogram({
    name: 'ipam_http_request_duration_seconds',
    help: 'Time from a request arriving to its answer being sent (or the connection closing), by method and route',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  /**
   * With the HTTP adapter (in the Nest application), counts every HTTP request: the middleware goes on
   * the express application while Nest builds the providers, before service.ts adds the body parsers and
   * the rest, so a request any of them answers (a bad body, /docs, the console) is counted too.
   */
  constructor(@Optional() @Inject(HttpAdapterHost) adapterHost?: HttpAdapterHost) {
    collectDefaultMetrics({ register: this.registry });
    const express = adapterHost?.httpAdapter?.getInstance?.() as
      { use?: (fn: (req: Request, res: Response, next: NextFunction) => void) => void } | undefined;
    if (typeof express?.use === 'function') express.use(this.httpMiddleware());
  }

  /** Express middleware: observes each request when its answer is done or its connection closes. */
  httpMiddleware() {
    return (req: Request, res: Response, next: NextFunction): void => {
      const started = performance.now();
      res.once('close', () => {
        const method = req.method;
        const route = routeOf(req);
        this.httpRequests.inc({ method, route, status: String(res.statusCode) });
        this.httpSeconds.observe({ method, route }, (performance.now() - started) / 1000);
      });
      next();
    };
  }

  gauge(
    name: string,
    help: string,
    labelNames: string[],
    collect: (g: Gauge) => void | Promise<void>,
  ): Gauge {
    return new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        this.reset();
        await collect(this);
      },
    });
  }

  decided(subject: string, event: IpamEvent, ms: number): void {
    const code = 'code' in event.data ? (event.data as { code: string }).code : '';
    this.outcomes.inc({ subject, code });
    this.decisionSeconds.observe(ms / 1000);
  }
}

/** The matched route's pattern (express keeps the route it dispatched to on the request), bounded. */
function routeOf(req: Request): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof path !== 'string') return UNMATCHED_ROUTE;
  return `${req.baseUrl ?? ''}${path}`;
}
