/**
 * The auditor the service tests rely on must itself catch what it is for: an input with no outcome, an
 * input with two, an outcome for nothing, a wrong causationId, and an address given to two load
 * balancers. Hand-written streams on a real nats-server, no service.
 */
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { startTestNats, type TestNats } from '../support/nats.js';
import { publishInput, StreamAudit } from '../support/stream-audit.js';

let nats: TestNats;
let nc: NatsConnection;
let js: JetStreamClient;
let n = 0;

/** A fresh stream for each test (the subjects are unique per stream, so the old one is deleted). */
async function freshStream(): Promise<StreamAudit> {
  const jsm = await jetstreamManager(nc);
  const name = `AUDIT_${++n}`;
  if (n > 1) await jsm.streams.delete(`AUDIT_${n - 1}`);
  await jsm.streams.add({ name, subjects: ['ipam.pool.>', 'ipam.lb.>', 'ipam.ip.>'] });
  return new StreamAudit(nc, name);
}

const allocated = (seq: number, id: string | null, lb: string, ip: string) => ({
  loadBalancer: lb,
  ipPool: 'p',
  ip,
  mask: '255.255.255.0',
  prefixLength: 24,
  gateway: null,
  fromHistory: false,
  causationSeq: seq,
  causationId: id,
});

beforeAll(async () => {
  nats = await startTestNats();
  nc = await nats.connect();
  js = jetstream(nc);
});

afterAll(async () => {
  await nats?.stop();
});

describe('StreamAudit', () => {
  it('accepts one outcome per input', async () => {
    const audit = await freshStream();
    const a = await publishInput(js, 'ipam.lb.requested', {}, 'a');
    await publishInput(js, 'ipam.ip.allocated', allocated(a, 'a', 'ns/a', '10.0.0.2'));
    const b = await publishInput(js, 'ipam.lb.deleted', {}, 'b');
    await publishInput(js, 'ipam.ip.released', {
      loadBalancer: 'ns/a',
      ipPool: 'p',
      ip: '10.0.0.2',
      causationSeq: b,
      causationId: 'b',
    });
    await audit.waitUntilAllAnswered({ timeoutMs: 2000, settleMs: 50 });
    expect(audit.exactlyOnceProblems()).toEqual([]);
    expect(audit.foldHoldings()).toEqual({ byAddress: new Map(), byLoadBalancer: new Map(), violations: [] });
  });

  it('reports an input without outcome, and times out waiting for it', async () => {
    const audit = await freshStream();
    const a = await publishInput(js, 'ipam.pool.created', {}, 'a');
    await audit.refresh();
    expect(audit.unanswered()).toEqual([a]);
    expect(audit.exactlyOnceProblems()).toEqual([`input seq ${a} (ipam.pool.created) has no outcome`]);
    expect(() => audit.assertExactlyOnce()).toThrow(/has no outcome/);
    await expect(audit.waitUntilAllAnswered({ timeoutMs: 200 })).rejects.toThrow(
      /1 of 1 inputs have no outcome/,
    );
    await expect(audit.waitForOutcome(a, 200)).rejects.toThrow(/timed out/);
  });

  it('reports two outcomes for one input, an outcome for no input, and a wrong causationId', async () => {
    const audit = await freshStream();
    const a = await publishInput(js, 'ipam.lb.requested', {}, 'a');
    await publishInput(js, 'ipam.ip.allocated', allocated(a, 'a', 'ns/a', '10.0.0.2'));
    await publishInput(js, 'ipam.lb.rejected', {
      loadBalancer: 'ns/a',
      code: 'X',
      reason: 'r',
      causationSeq: a,
      causationId: 'a',
    });
    const b = await publishInput(js, 'ipam.lb.requested', {}, 'b');
    await publishInput(js, 'ipam.ip.allocated', allocated(b, 'not-b', 'ns/b', '10.0.0.3'));
    await publishInput(js, 'ipam.lb.rejected', {
      loadBalancer: 'x',
      code: 'X',
      reason: 'r',
      causationSeq: 999,
      causationId: null,
    });
    await audit.refresh();
    const problems = audit.exactlyOnceProblems();
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(new RegExp(`input seq ${a} .* has 2 outcomes`));
    expect(problems[1]).toMatch(/causationId "not-b"/);
    expect(problems[2]).toMatch(/answer seq 999, which is not an input/);
  });

  it('folds allocations by hand and reports an address given twice', async () => {
    const audit = await freshStream();
    const a = await publishInput(js, 'ipam.lb.requested', {}, 'a');
    await publishInput(js, 'ipam.ip.allocated', allocated(a, 'a', 'ns/a', '10.0.0.2'));
    const b = await publishInput(js, 'ipam.lb.requested', {}, 'b');
    await publishInput(js, 'ipam.ip.allocated', allocated(b, 'b', 'ns/b', '10.0.0.2'));
    const c = await publishInput(js, 'ipam.lb.deleted', {}, 'c');
    await publishInput(js, 'ipam.ip.released', {
      loadBalancer: 'ns/c',
      ipPool: 'p',
      ip: '10.0.0.9',
      causationSeq: c,
      causationId: 'c',
    });
    await audit.refresh();
    expect(audit.exactlyOnceProblems()).toEqual([]);
    const { violations } = audit.foldHoldings();
    expect(violations).toHaveLength(2);
    expect(violations[0]).toMatch(/p\|10\.0\.0\.2 allocated to ns\/b while held by ns\/a/);
    expect(violations[1]).toMatch(/ns\/c released p\|10\.0\.0\.9/);
  });
});
