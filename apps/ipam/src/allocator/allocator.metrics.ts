/**
 * Prometheus metrics (prom-client, a registry of our own): outcomes by subject and code, refused
 * outcomes, decision latency, and per-pool figures read from the state when scraped.
 */
import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { IpamEvent } from '../../../../libs/ipam-domain/src/index.js';

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
    help:
      'Stored outcomes the fold refused (never applied), by subject and reason: differs (not this build decision), stale (input already answered), unreadable',
    labelNames: ['subject', 'reason'],
    registers: [this.registry],
  });
  readonly decisionSeconds = new Histogram({
    name: 'ipam_decision_seconds',
    help: 'Time to decide one input and hand its outcome to JetStream',
    buckets: [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05],
    registers: [this.registry],
  });

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
