/**
 * The wire contract end to end: the service in-process against a real nats-server, inputs published
 * into the stream with Nats-Msg-Id headers, outcomes read back from the stream and checked field by
 * field. The tests of this file run in order and build on each other's state (the four doc-page pools
 * first, then load balancers against them).
 */
import { serviceFixture, type Published, type ServiceFixture } from '../support/service-fixture.js';
import { publishInput } from '../support/stream-audit.js';
import {
  DOC_EXAMPLE_1,
  DOC_EXAMPLE_2,
  DOC_EXAMPLE_3,
  DOC_EXAMPLE_4,
  DOC_EXAMPLES,
  lbRef,
  loadBalancer,
  poolRef,
  RKE2_ANNOTATIONS,
} from './doc-examples.js';

const STREAM = 'IPAM_CONTRACT';

let f: ServiceFixture;

type Sent = Published;

/** Publishes one input with a fresh Nats-Msg-Id and waits for its outcome. */
const send = (subject: string, body: unknown): Promise<Sent> => f.publish(subject, body);

/** The causation fields every outcome must carry. */
const caused = (s: Sent) => ({ causationSeq: s.seq, causationId: s.id });

beforeAll(async () => {
  f = await serviceFixture(STREAM, 'contract');
}, 30_000);

afterAll(() => f?.stop());

describe('stream', () => {
  it('is created by the service with exactly the contract subjects, file storage', async () => {
    const jsm = await f.js.jetstreamManager();
    const info = await jsm.streams.info(STREAM);
    expect([...(info.config.subjects ?? [])].sort()).toEqual(['ipam.ip.>', 'ipam.lb.>', 'ipam.pool.>']);
    expect(info.config.storage).toBe('file');
    expect(info.config.num_replicas).toBe(1);
  });
});

describe('the four doc-page examples on ipam.pool.created', () => {
  it.each(DOC_EXAMPLES.map((p) => [p.metadata.name, p] as const))(
    '%s is accepted (created)',
    async (name, pool) => {
      const s = await send('ipam.pool.created', pool);
      expect(s.outcome.subject).toBe('ipam.pool.accepted');
      expect(s.outcome.body.name).toBe(name);
      expect(s.outcome.body.change).toBe('created');
      expect(s.outcome.body.causationSeq).toBe(s.seq);
      expect(s.outcome.body.causationId).toBe(s.id);
    },
  );

  it('the outcome is stored after its input, with the service own Nats-Msg-Id', async () => {
    const s = await send('ipam.pool.created', DOC_EXAMPLE_1);
    expect(s.outcome.seq).toBeGreaterThan(s.seq);
    expect(s.outcome.msgId).toBe(`${STREAM}:outcome:${s.seq}`);
  });
});

describe('LBRequested picks the pool of the doc page', () => {
  it('namespace default without annotations -> default-ip-pool-2 (priority 1 beats 0)', async () => {
    const s = await send('ipam.lb.requested', loadBalancer('default', 'lb-a'));
    expect(s.outcome.subject).toBe('ipam.ip.allocated');
    expect(s.outcome.body).toMatchObject({
      loadBalancer: 'default/lb-a',
      ipPool: 'default-ip-pool-2',
      ip: '192.168.200.2',
      mask: '255.255.255.0',
      prefixLength: 24,
      gateway: '192.168.200.1',
      fromHistory: false,
      ...caused(s),
    });
  });

  it('the rke2 guest cluster (network default/vlan1, product/default, rke2) -> rke2-ip-pool from .10', async () => {
    const s = await send(
      'ipam.lb.requested',
      loadBalancer('default', 'rke2-default-lb-pool-2fab9ac0', RKE2_ANNOTATIONS, { workloadType: 'cluster' }),
    );
    expect(s.outcome.subject).toBe('ipam.ip.allocated');
    expect(s.outcome.body).toMatchObject({
      loadBalancer: 'default/rke2-default-lb-pool-2fab9ac0',
      ipPool: 'rke2-ip-pool',
      ip: '192.168.10.10',
      mask: '255.255.255.0',
      prefixLength: 24,
      gateway: '192.168.10.1',
      fromHistory: false,
      ...caused(s),
    });
    const second = await send('ipam.lb.requested', loadBalancer('default', 'rke2-lb-2', RKE2_ANNOTATIONS));
    expect(second.outcome.body).toMatchObject({
      ipPool: 'rke2-ip-pool',
      ip: '192.168.10.11',
      ...caused(second),
    });
  });

  it('a namespace no pool names -> global-ip-pool from .2', async () => {
    const s = await send('ipam.lb.requested', loadBalancer('elsewhere', 'lb-c'));
    expect(s.outcome.subject).toBe('ipam.ip.allocated');
    expect(s.outcome.body).toMatchObject({
      loadBalancer: 'elsewhere/lb-c',
      ipPool: 'global-ip-pool',
      ip: '192.168.20.2',
      mask: '255.255.255.0',
      prefixLength: 24,
      gateway: '192.168.20.1',
      fromHistory: false,
      ...caused(s),
    });
  });

  it('the next load balancer of namespace default gets the next address (ascending)', async () => {
    const s = await send('ipam.lb.requested', loadBalancer('default', 'lb-d'));
    expect(s.outcome.body).toMatchObject({
      loadBalancer: 'default/lb-d',
      ipPool: 'default-ip-pool-2',
      ip: '192.168.200.3',
    });
  });
});

describe('spec.ipPool and spec.ip', () => {
  it('spec.ipPool takes the address from that pool, whatever the annotations', async () => {
    const s = await send(
      'ipam.lb.requested',
      loadBalancer('default', 'pinned', undefined, { ipPool: 'global-ip-pool' }),
    );
    expect(s.outcome.subject).toBe('ipam.ip.allocated');
    expect(s.outcome.body).toMatchObject({
      loadBalancer: 'default/pinned',
      ipPool: 'global-ip-pool',
      ...caused(s),
    });
  });

  it('spec.ipPool naming no pool -> ipam.lb.rejected UnknownPool', async () => {
    const s = await send(
      'ipam.lb.requested',
      loadBalancer('default', 'lost', undefined, { ipPool: 'no-such-pool' }),
    );
    expect(s.outcome.subject).toBe('ipam.lb.rejected');
    expect(s.outcome.body).toMatchObject({ loadBalancer: 'default/lost', code: 'UnknownPool', ...caused(s) });
    expect(s.outcome.body.reason).toEqual(expect.stringContaining('no-such-pool'));
  });

  it('spec.ip gets exactly that address; the same address for another -> AddressUnavailable', async () => {
    const s = await send(
      'ipam.lb.requested',
      loadBalancer('elsewhere', 'exact', undefined, { ip: '192.168.20.100' }),
    );
    expect(s.outcome.subject).toBe('ipam.ip.allocated');
    expect(s.outcome.body).toMatchObject({
      loadBalancer: 'elsewhere/exact',
      ipPool: 'global-ip-pool',
      ip: '192.168.20.100',
    });
    const taken = await send(
      'ipam.lb.requested',
      loadBalancer('elsewhere', 'exact-2', undefined, { ip: '192.168.20.100' }),
    );
    expect(taken.outcome.subject).toBe('ipam.lb.rejected');
    expect(taken.outcome.body).toMatchObject({
      loadBalancer: 'elsewhere/exact-2',
      code: 'AddressUnavailable',
      ...caused(taken),
    });
    expect(taken.outcome.body.reason).toEqual(expect.stringContaining('192.168.20.100'));
  });
});

describe('release, history, repeats', () => {
  it('LBDeleted of a holder -> ipam.ip.released', async () => {
    const s = await send('ipam.lb.deleted', lbRef('default', 'lb-a'));
    expect(s.outcome.subject).toBe('ipam.ip.released');
    expect(s.outcome.body).toMatchObject({
      loadBalancer: 'default/lb-a',
      ipPool: 'default-ip-pool-2',
      ip: '192.168.200.2',
      ...caused(s),
    });
  });

  it('the same load balancer requested again gets its old address back, fromHistory true', async () => {
    const s = await send('ipam.lb.requested', loadBalancer('default', 'lb-a'));
    expect(s.outcome.subject).toBe('ipam.ip.allocated');
    expect(s.outcome.body).toMatchObject({
      loadBalancer: 'default/lb-a',
      ipPool: 'default-ip-pool-2',
      ip: '192.168.200.2',
      fromHistory: true,
      ...caused(s),
    });
  });

  it('a repeated LBRequested of a holder answers the same address', async () => {
    const s = await send('ipam.lb.requested', loadBalancer('default', 'lb-d'));
    expect(s.outcome.subject).toBe('ipam.ip.allocated');
    expect(s.outcome.body).toMatchObject({
      loadBalancer: 'default/lb-d',
      ipPool: 'default-ip-pool-2',
      ip: '192.168.200.3',
      fromHistory: false,
      ...caused(s),
    });
  });

  it('LBDeleted of a load balancer that holds nothing -> ipam.lb.rejected UnknownLoadBalancer', async () => {
    const s = await send('ipam.lb.deleted', lbRef('default', 'ghost'));
    expect(s.outcome.subject).toBe('ipam.lb.rejected');
    expect(s.outcome.body).toMatchObject({
      loadBalancer: 'default/ghost',
      code: 'UnknownLoadBalancer',
      ...caused(s),
    });
    expect(typeof s.outcome.body.reason).toBe('string');
    expect((s.outcome.body.reason as string).length).toBeGreaterThan(10);
  });

  it('LBDeleted twice: the second is rejected, the address is not released twice', async () => {
    await send('ipam.lb.requested', loadBalancer('elsewhere', 'twice'));
    const first = await send('ipam.lb.deleted', lbRef('elsewhere', 'twice'));
    const second = await send('ipam.lb.deleted', lbRef('elsewhere', 'twice'));
    expect(first.outcome.subject).toBe('ipam.ip.released');
    expect(second.outcome.subject).toBe('ipam.lb.rejected');
    expect(second.outcome.body).toMatchObject({
      loadBalancer: 'elsewhere/twice',
      code: 'UnknownLoadBalancer',
    });
  });

  it('a retried publish with the same Nats-Msg-Id is stored once and answered once', async () => {
    const id = 'contract-retry-1';
    const seq = await publishInput(f.js, 'ipam.lb.requested', loadBalancer('elsewhere', 'retried'), id);
    const again = await f.js.publish(
      'ipam.lb.requested',
      JSON.stringify(loadBalancer('elsewhere', 'retried')),
      { msgID: id },
    );
    expect(again.duplicate).toBe(true);
    expect(again.seq).toBe(seq);
    const o = await f.audit.waitForOutcome(seq);
    expect(o.body).toMatchObject({ loadBalancer: 'elsewhere/retried', causationSeq: seq, causationId: id });
  });

  it('an input without Nats-Msg-Id is answered with causationId null', async () => {
    const seq = await publishInput(f.js, 'ipam.lb.requested', loadBalancer('elsewhere', 'anonymous'));
    const o = await f.audit.waitForOutcome(seq);
    expect(o.subject).toBe('ipam.ip.allocated');
    expect(o.body.causationSeq).toBe(seq);
    expect(o.body.causationId).toBeNull();
  });
});

describe('pool lifecycle rules', () => {
  it('PoolCreated with the identical spec -> accepted, change created, no effect', async () => {
    const s = await send('ipam.pool.created', DOC_EXAMPLE_3);
    expect(s.outcome.subject).toBe('ipam.pool.accepted');
    expect(s.outcome.body).toMatchObject({ name: 'default-ip-pool-2', change: 'created', ...caused(s) });
    // no effect: the holders are still there
    const lb = await send('ipam.lb.requested', loadBalancer('default', 'lb-d'));
    expect(lb.outcome.body).toMatchObject({ ip: '192.168.200.3' });
  });

  it('PoolCreated of an existing name with a different spec -> PoolExists', async () => {
    const changed = {
      ...DOC_EXAMPLE_1,
      spec: { ...DOC_EXAMPLE_1.spec, ranges: [{ subnet: '192.168.101.0/24' }] },
    };
    const s = await send('ipam.pool.created', changed);
    expect(s.outcome.subject).toBe('ipam.pool.rejected');
    expect(s.outcome.body).toMatchObject({ name: 'default-ip-pool', code: 'PoolExists', ...caused(s) });
    expect(s.outcome.body.reason).toEqual(expect.stringContaining('default-ip-pool'));
  });

  it('PoolUpdated of a missing pool -> UnknownPool', async () => {
    const missing = { ...DOC_EXAMPLE_1, metadata: { name: 'no-such-pool' } };
    const s = await send('ipam.pool.updated', missing);
    expect(s.outcome.subject).toBe('ipam.pool.rejected');
    expect(s.outcome.body).toMatchObject({ name: 'no-such-pool', code: 'UnknownPool', ...caused(s) });
  });

  it('PoolDeleted of a missing pool -> UnknownPool', async () => {
    const s = await send('ipam.pool.deleted', poolRef('no-such-pool'));
    expect(s.outcome.subject).toBe('ipam.pool.rejected');
    expect(s.outcome.body).toMatchObject({ name: 'no-such-pool', code: 'UnknownPool', ...caused(s) });
  });

  it('PoolDeleted while addresses are allocated -> PoolInUse', async () => {
    const s = await send('ipam.pool.deleted', poolRef('default-ip-pool-2'));
    expect(s.outcome.subject).toBe('ipam.pool.rejected');
    expect(s.outcome.body).toMatchObject({ name: 'default-ip-pool-2', code: 'PoolInUse', ...caused(s) });
  });

  it('PoolUpdated of an existing pool -> accepted, change updated', async () => {
    const updated = { ...DOC_EXAMPLE_4, spec: { ...DOC_EXAMPLE_4.spec, description: 'everything else' } };
    const s = await send('ipam.pool.updated', updated);
    expect(s.outcome.subject).toBe('ipam.pool.accepted');
    expect(s.outcome.body).toMatchObject({ name: 'global-ip-pool', change: 'updated', ...caused(s) });
  });

  it('PoolDeleted of a pool with no allocations -> accepted, change deleted', async () => {
    // default-ip-pool (example 1) lost to default-ip-pool-2 (priority 1): nothing allocated from it
    const s = await send('ipam.pool.deleted', poolRef('default-ip-pool'));
    expect(s.outcome.subject).toBe('ipam.pool.accepted');
    expect(s.outcome.body).toMatchObject({ name: 'default-ip-pool', change: 'deleted', ...caused(s) });
    const again = await send('ipam.pool.deleted', poolRef('default-ip-pool'));
    expect(again.outcome.body).toMatchObject({ code: 'UnknownPool' });
  });

  it('a pool with one address: the first load balancer gets it, the second -> PoolExhausted', async () => {
    const tiny = {
      apiVersion: 'networking.harvesterhci.io/v1beta1',
      kind: 'IPPool',
      metadata: { name: 'tiny-pool' },
      spec: { ranges: [{ subnet: '10.99.0.0/30' }], selector: { scope: { namespace: 'tiny' } } },
    };
    const created = await send('ipam.pool.created', tiny);
    expect(created.outcome.body).toMatchObject({ name: 'tiny-pool', change: 'created' });
    const first = await send('ipam.lb.requested', loadBalancer('tiny', 't1'));
    expect(first.outcome.subject).toBe('ipam.ip.allocated');
    expect(first.outcome.body).toMatchObject({
      loadBalancer: 'tiny/t1',
      ipPool: 'tiny-pool',
      ip: '10.99.0.2',
      mask: '255.255.255.252',
      prefixLength: 30,
      gateway: '10.99.0.1',
      fromHistory: false,
    });
    const second = await send('ipam.lb.requested', loadBalancer('tiny', 't2'));
    expect(second.outcome.subject).toBe('ipam.lb.rejected');
    expect(second.outcome.body).toMatchObject({
      loadBalancer: 'tiny/t2',
      code: 'PoolExhausted',
      ...caused(second),
    });
    expect(second.outcome.body.reason).toEqual(expect.stringContaining('tiny-pool'));
  });

  it('the rke2 pool (11 addresses) is exhausted after 11 load balancers', async () => {
    // .10 and .11 are held already (earlier test): 9 more fit, the 10th does not
    const results: Sent[] = [];
    for (let i = 0; i < 10; i++) {
      results.push(
        await send('ipam.lb.requested', loadBalancer('default', `rke2-fill-${i}`, RKE2_ANNOTATIONS)),
      );
    }
    const ips = results.slice(0, 9).map((r) => r.outcome.body.ip);
    expect(ips).toEqual([12, 13, 14, 15, 16, 17, 18, 19, 20].map((n) => `192.168.10.${n}`));
    expect(results[9].outcome.subject).toBe('ipam.lb.rejected');
    expect(results[9].outcome.body).toMatchObject({
      code: 'PoolExhausted',
      loadBalancer: 'default/rke2-fill-9',
    });
  });
});

describe('the whole stream', () => {
  it('holds exactly one outcome per input and no address held twice', async () => {
    await f.audit.waitUntilAllAnswered();
    f.audit.assertExactlyOnce();
    expect(f.audit.inputs().length).toBeGreaterThan(30);
    const h = f.audit.foldHoldings();
    expect(h.violations).toEqual([]);
    // the folded holdings are what the service reports
    const reply = await f.nc.request('ipam.query.pools', JSON.stringify({}), { timeout: 5000 });
    const { items } = reply.json<{
      items: Array<{ metadata: { name: string }; status: { allocated: Record<string, string> } }>;
    }>();
    const served = new Map<string, string>();
    for (const p of items)
      for (const [ip, lb] of Object.entries(p.status.allocated)) served.set(`${p.metadata.name}|${ip}`, lb);
    expect(served).toEqual(h.byAddress);
  });

  it('DOC_EXAMPLE_2 was not touched by the other pools (its holders are the rke2 load balancers)', async () => {
    const reply = await f.nc.request(
      'ipam.query.pool',
      JSON.stringify({ name: DOC_EXAMPLE_2.metadata.name }),
      {
        timeout: 5000,
      },
    );
    const pool = reply.json<{
      status: { allocated: Record<string, string>; available: number; total: number };
    }>();
    expect(pool.status.total).toBe(11);
    expect(pool.status.available).toBe(0);
    expect(Object.keys(pool.status.allocated)).toHaveLength(11);
  });
});
