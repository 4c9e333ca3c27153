/**
 * One service integration fixture: a test nats-server, a client connection, the service in-process on a
 * stream of the test file's own, and a StreamAudit of that stream. `publish` sends an input with a fresh
 * Nats-Msg-Id and waits for its outcome; `query` asks a request/reply subject. Each spec
 * file starts its own in beforeAll and stops it in afterAll.
 */
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { IpamService } from '../../apps/ipam/src/service.js';
import { startTestNats, type TestNats } from './nats.js';
import { startTestService, waitUntilLive } from './ipam-service.js';
import { publishInput, StreamAudit, type OutcomeRecord } from './stream-audit.js';
import { outcomeSchemaErrors, schemaErrors } from './wire-schemas.js';

export interface Published {
  seq: number;
  id: string;
  outcome: OutcomeRecord;
}

export interface ServiceFixture {
  nats: TestNats;
  nc: NatsConnection;
  js: JetStreamClient;
  service: IpamService;
  audit: StreamAudit;
  /** Publishes one input with a fresh Nats-Msg-Id and waits for its outcome. */
  publish(subject: string, body: unknown): Promise<Published>;
  /** A request/reply query (5 s timeout); a body that is not bytes or a string is sent as JSON. */
  query<T = Record<string, unknown>>(subject: string, body: unknown): Promise<T>;
  stop(): Promise<void>;
}

/**
 * Starts the fixture on `stream`; the service's instance id is `<name>-1` and the inputs' ids
 * `<idPrefix>-<n>` (`idPrefix` defaults to `name`). `env` adds to the service's environment.
 */
export async function serviceFixture(
  stream: string,
  name: string,
  opts: { env?: Record<string, string>; idPrefix?: string } = {},
): Promise<ServiceFixture> {
  const idPrefix = opts.idPrefix ?? name;
  const nats = await startTestNats();
  let service: IpamService | undefined;
  try {
    const nc = await nats.connect();
    const js = jetstream(nc);
    service = await startTestService(nats.url, {
      IPAM_STREAM: stream,
      IPAM_INSTANCE_ID: `${name}-1`,
      ...opts.env,
    });
    await waitUntilLive(service);
    const audit = new StreamAudit(nc, stream);
    const started = service;
    let ids = 0;
    return {
      nats,
      nc,
      js,
      service,
      audit,
      async publish(subject, body) {
        const id = `${idPrefix}-${++ids}`;
        const seq = await publishInput(js, subject, body, id);
        return { seq, id, outcome: await audit.waitForOutcome(seq) };
      },
      async query<T>(subject: string, body: unknown): Promise<T> {
        const data =
          body instanceof Uint8Array ? body : typeof body === 'string' ? body : JSON.stringify(body);
        const reply = await nc.request(subject, data, { timeout: 5000 });
        return reply.json<T>();
      },
      async stop() {
        await started.close().catch(() => undefined);
        await nats.stop();
      },
    };
  } catch (err) {
    await service?.close().catch(() => undefined);
    await nats.stop();
    throw err;
  }
}

/** Publishes one input and returns its outcome, checked against the contract's schema of its subject. */
export async function sendChecked(f: ServiceFixture, subject: string, body: unknown): Promise<OutcomeRecord> {
  const { outcome } = await f.publish(subject, body);
  expect(outcomeSchemaErrors(outcome.subject, outcome.body)).toEqual([]);
  return outcome;
}

/** ipam.query.pool of `name`, checked against the PoolView schema. */
export async function poolStatusChecked(f: ServiceFixture, name: string): Promise<Record<string, unknown>> {
  const view = await f.query('ipam.query.pool', { name });
  expect(schemaErrors('PoolView', view)).toEqual([]);
  return view;
}

/** Input builders shared by the service specs. */
export const scope = (namespace: string) => ({ scope: [{ project: '*', namespace, guestCluster: '*' }] });
export const ipPool = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'loadbalancer.harvesterhci.io/v1beta1',
  kind: 'IPPool',
  metadata: { name },
  spec,
});
export const lb = (namespace: string, name: string, spec: Record<string, unknown> = {}) => ({
  metadata: { namespace, name },
  spec,
});
