/**
 * Synthetic stored streams, laid out exactly as the service stores them: each input message at its
 * sequence, decided at once with the domain (the service's own input decoding, `inputCommand`), and its
 * outcome body `JSON.stringify(event.data)` stored later on `OUTCOME_SUBJECTS[event.type]` with
 * `causationSeq` = the input's sequence and the service's outcome msgId. Several inputs may be stored
 * before their outcomes (`input()` then `flush()`), as when the service pipelines its answers.
 */
import 'reflect-metadata';
import { decide, evolve, initialState, IpamEvent, IpamState } from '../../ipam-domain/src/index.js';
import {
  inputCommand,
  OUTCOME_SUBJECTS,
  outcomeMsgId,
  serviceCodec,
  type InputSubject,
  type StoredEvent,
  type WireCodec,
} from '../../ipam-contract/src/index.js';
import { AuditProjection, createVerifier } from '../src/index.js';
import { prng } from '../../../test/support/prng.js';

export const MAX_BYTES = 64 * 1024;
export const STREAM = 'IPAM';
/** 2026-03-01T00:00:00.000Z */
export const T0 = Date.UTC(2026, 2, 1);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The service's codec, built from its own input decoding and subject mapping. */
export const codec: WireCodec = serviceCodec(MAX_BYTES);

export interface InputOptions {
  /** store these bytes as the body instead of JSON.stringify(body) */
  raw?: string;
  /** Nats-Msg-Id of the input; default `in-<seq>` */
  msgId?: string | null;
  /** false: never store this build's outcome for this input (and do not evolve the state with it) */
  answer?: boolean;
  /**
   * an outcome stored before this build's (a forgery, or another build's decision), with the msgId
   * `forged-<seq>`; the state never evolves with it
   */
  forge?: (decided: IpamEvent) => IpamEvent;
}

export interface Outcome {
  message: StoredEvent;
  event: IpamEvent;
}

export class StoredStream {
  readonly state: IpamState = initialState();
  readonly messages: StoredEvent[] = [];
  /** stream time of the next stored message (ms) */
  clock = T0;
  /** ms between two stored messages */
  step = 1000;
  private queue: Array<{ inputSeq: number; event: IpamEvent | null; forged: IpamEvent | null }> = [];
  /** outcome by input seq, as stored */
  readonly outcomes = new Map<number, Outcome>();

  get lastSeq(): number {
    return this.messages.length;
  }

  /** Stores one message as it is. */
  store(subject: string, data: Uint8Array | string, msgId: string | null = null): StoredEvent {
    const m: StoredEvent = {
      seq: this.messages.length + 1,
      subject,
      timeMs: this.clock,
      msgId,
      data: typeof data === 'string' ? encoder.encode(data) : data,
    };
    this.clock += this.step;
    this.messages.push(m);
    return m;
  }

  /** Stores an input and decides it now, as the service would; its outcome waits for flush(). */
  input(subject: InputSubject, body: unknown, o: InputOptions = {}): number {
    const seq = this.messages.length + 1;
    const msgId = o.msgId === undefined ? `in-${seq}` : o.msgId;
    const m = this.store(subject, o.raw ?? JSON.stringify(body), msgId);
    const command = inputCommand(subject, m.data, { seq: m.seq, id: msgId }, MAX_BYTES);
    const events = decide(command, this.state);
    expect(events).toHaveLength(1);
    const forged = o.forge ? o.forge(events[0]) : null;
    const event = o.answer === false ? null : events[0];
    if (event !== null) evolve(this.state, event);
    if (event !== null || forged !== null) this.queue.push({ inputSeq: seq, event, forged });
    return seq;
  }

  /** Stores the outcomes of every input not answered yet, in input order. */
  flush(): Outcome[] {
    const out: Outcome[] = [];
    for (const { inputSeq, event, forged } of this.queue) {
      if (forged !== null)
        this.store(OUTCOME_SUBJECTS[forged.type], JSON.stringify(forged.data), `forged-${inputSeq}`);
      if (event === null) continue;
      const message = this.store(
        OUTCOME_SUBJECTS[event.type],
        JSON.stringify(event.data),
        outcomeMsgId(STREAM, inputSeq),
      );
      const o = { message, event };
      this.outcomes.set(inputSeq, o);
      out.push(o);
    }
    this.queue = [];
    return out;
  }

  /** An input answered right away; returns its outcome. */
  send(subject: InputSubject, body: unknown, o: InputOptions = {}): Outcome & { inputSeq: number } {
    const inputSeq = this.input(subject, body, o);
    const [outcome] = this.flush();
    expect(outcome.event.data.causationSeq).toBe(inputSeq);
    return { ...outcome, inputSeq };
  }

  /** Folds every stored message as the service does, into a fresh projection of the accepted answers. */
  project(): AuditProjection {
    const p = new AuditProjection();
    const v = createVerifier(codec, { onAccepted: (m, answer) => p.apply(m.seq, m.timeMs, answer) });
    for (const m of this.messages) v.push(m);
    v.finish();
    return p;
  }
}

export function bodyOf(m: StoredEvent): Record<string, unknown> {
  return JSON.parse(decoder.decode(m.data)) as Record<string, unknown>;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

// ---------------------------------------------------------------------------------------------------
// A long mixed stream: pools created, updated, re-created and deleted, requests (re-requests, history,
// spec.ip, spec.ipPool), releases, force-releases, history imports, and inputs that cannot be read.

const RANGE_NS1 = (end: number) => [
  { subnet: '10.1.0.0/24', rangeStart: '10.1.0.10', rangeEnd: `10.1.0.${end}` },
];
const NAMESPACES = ['ns1', 'ns2', 'ns3', 'other'];
const ADDRESSES: Record<string, string[]> = {
  ns1: Array.from({ length: 31 }, (_, i) => `10.1.0.${10 + i}`),
  ns2: [
    ...Array.from({ length: 11 }, (_, i) => `10.2.1.${10 + i}`),
    ...Array.from({ length: 11 }, (_, i) => `10.2.0.${10 + i}`),
  ],
  ns3: Array.from({ length: 40 }, (_, i) => `fd00::${(i + 1).toString(16)}`),
  other: Array.from({ length: 61 }, (_, i) => `10.9.0.${2 + i}`),
};
const POOL_OF: Record<string, string> = { ns1: 'ns1', ns2: 'ns2', ns3: 'v6', other: 'glob' };

function poolBody(name: string, ranges: unknown[], selector: unknown, description?: string) {
  return {
    apiVersion: 'loadbalancer.harvesterhci.io/v1beta1',
    kind: 'IPPool',
    metadata: { name },
    spec: { ...(description ? { description } : {}), ranges, selector },
  };
}

function lbBody(key: string, spec: Record<string, string> = {}) {
  const [namespace, name] = key.split('/');
  return { metadata: { namespace, name }, spec };
}

/** Generates `inputs` inputs (and their outcomes, 1-4 inputs before each batch of outcomes). */
export function mixedStream(inputs: number, seed = 1): StoredStream {
  const s = new StoredStream();
  const rnd = prng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
  const ns1Selector = { scope: [{ namespace: 'ns1' }] };
  s.input('ipam.pool.created', poolBody('ns1', RANGE_NS1(40), ns1Selector));
  s.input(
    'ipam.pool.created',
    poolBody(
      'ns2',
      [
        { subnet: '10.2.1.0/24', rangeStart: '10.2.1.10', rangeEnd: '10.2.1.20' },
        { subnet: '10.2.0.0/24', rangeStart: '10.2.0.10', rangeEnd: '10.2.0.20' },
      ],
      { priority: 5, scope: [{ namespace: 'ns2' }] },
    ),
  );
  s.input(
    'ipam.pool.created',
    poolBody('v6', [{ subnet: 'fd00::/64', rangeEnd: 'fd00::28' }], {
      priority: 6,
      scope: { namespace: 'ns3' },
    }),
  );
  s.input(
    'ipam.pool.created',
    poolBody('glob', [{ subnet: '10.9.0.0/26' }], {
      scope: [{ project: '*', namespace: '*', guestCluster: '*' }],
    }),
  );
  s.flush();
  let ns1End = 40;
  let tmp = false;
  let n = 4;
  while (n < inputs) {
    const batch = 1 + Math.floor(rnd() * 4);
    for (let b = 0; b < batch && n < inputs; b++, n++) {
      const ns = pick(NAMESPACES);
      const key = `${ns}/lb-${Math.floor(rnd() * 32)}`;
      const r = rnd();
      if (r < 0.42) s.input('ipam.lb.requested', lbBody(key));
      else if (r < 0.47) s.input('ipam.lb.requested', lbBody(key, { ip: pick(ADDRESSES[ns]) }));
      else if (r < 0.49)
        s.input('ipam.lb.requested', lbBody(key, { ipPool: pick(['glob', 'nope', POOL_OF[ns]]) }));
      else if (r < 0.75) s.input('ipam.lb.deleted', lbBody(key));
      else if (r < 0.8) {
        const ip = pick(ADDRESSES[ns]);
        s.input(
          'ipam.ip.releaserequested',
          rnd() < 0.5 ? { ip } : { ip, ipPool: pick([POOL_OF[ns], 'glob', 'nope']) },
        );
      } else if (r < 0.83) {
        ns1End = ns1End === 40 ? 30 : 40;
        s.input('ipam.pool.updated', poolBody('ns1', RANGE_NS1(ns1End), ns1Selector, `end ${ns1End}`));
      } else if (r < 0.85) {
        // identical re-create (accepted, no effect) or a different spec (PoolExists)
        s.input(
          'ipam.pool.created',
          poolBody('glob', [{ subnet: rnd() < 0.5 ? '10.9.0.0/26' : '10.9.0.0/25' }], {
            scope: [{ project: '*', namespace: '*', guestCluster: '*' }],
          }),
        );
      } else if (r < 0.87) {
        if (tmp) s.input('ipam.pool.deleted', { metadata: { name: 'tmp' } });
        else
          s.input(
            'ipam.pool.created',
            poolBody('tmp', [{ subnet: '10.50.0.0/29' }], {
              priority: 9,
              scope: [{ namespace: 'ns1', project: 'x' }],
            }),
          );
        tmp = !tmp;
      } else if (r < 0.89) {
        s.input('ipam.pool.historyimported', {
          ipPool: 'ns1',
          entries: [{ ip: pick(ADDRESSES.ns1), loadBalancer: `ns1/lb-${Math.floor(rnd() * 24)}` }],
        });
      } else if (r < 0.92) {
        const subject = pick([
          'ipam.lb.requested',
          'ipam.lb.deleted',
          'ipam.pool.created',
          'ipam.pool.updated',
          'ipam.ip.releaserequested',
          'ipam.pool.historyimported',
        ] as const);
        s.input(subject, null, { raw: pick(['not json', '{"metadata":', '[1,2]', '"just a string"', '{}']) });
      } else if (r < 0.94) {
        s.input('ipam.lb.requested', { metadata: { namespace: ns, name: 7 }, spec: { ip: 5 } });
      } else {
        s.input('ipam.lb.requested', lbBody(key), { msgId: null });
      }
    }
    s.flush();
  }
  return s;
}
