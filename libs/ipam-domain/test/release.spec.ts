/**
 * semantics.md section 7 (releasing), the operator's ForceReleaseAddress, ImportHistory (the vip-pools
 * migration's history), and inputs that cannot be served (InvalidEvent).
 */
import { decide, holdingOf, initialState, IpamCommand, poolViews } from '../src/index.js';
import { globalPool, pool, World } from './support.js';

const P24 = globalPool('p', '10.0.0.0/24');

describe('section 7: releasing', () => {
  it('deleting a load balancer releases its address to history, with the causation of the input', () => {
    const w = new World().mustCreate(P24);
    w.ip('default/a');
    const c = w.cmd.release('default/a');
    expect(w.send(c)).toEqual({
      type: 'IPReleased',
      data: {
        loadBalancer: 'default/a',
        ipPool: 'p',
        ip: '10.0.0.2',
        causationSeq: c.meta.seq,
        causationId: c.meta.id,
      },
    });
    expect(w.status('p')).toMatchObject({
      available: 253,
      allocated: {},
      allocatedHistory: { '10.0.0.2': 'default/a' },
    });
    expect(holdingOf(w.state, 'default/a')).toBeUndefined();
  });

  it('releasing an unknown load balancer is rejected with UnknownLoadBalancer and changes nothing', () => {
    const w = new World().mustCreate(P24);
    w.ip('default/a');
    const before = poolViews(w.state);
    const e = w.release('default/nobody');
    expect(e).toMatchObject({
      type: 'LBRejected',
      data: { loadBalancer: 'default/nobody', code: 'UnknownLoadBalancer' },
    });
    expect(poolViews(w.state)).toEqual(before);
  });

  it('releasing an already-released load balancer is rejected with UnknownLoadBalancer and keeps history', () => {
    const w = new World().mustCreate(P24);
    w.ip('default/a');
    w.mustRelease('default/a');
    const before = poolViews(w.state);
    expect(w.release('default/a')).toMatchObject({
      type: 'LBRejected',
      data: { code: 'UnknownLoadBalancer' },
    });
    expect(poolViews(w.state)).toEqual(before);
  });

  it('the same name in another namespace is another load balancer', () => {
    const w = new World().mustCreate(P24);
    w.ip('ns1/lb');
    expect(w.release('ns2/lb')).toMatchObject({ type: 'LBRejected', data: { code: 'UnknownLoadBalancer' } });
    expect(w.allocate('ns2/lb').ip).toBe('10.0.0.3');
  });

  it('a malformed delete body is an InvalidEvent rejection', () => {
    const w = new World();
    for (const body of [
      null,
      {},
      { metadata: { name: 'a' } },
      { metadata: { namespace: 'x/y', name: 'a' } },
    ]) {
      const e = w.send({ type: 'DeleteLoadBalancer', data: { body }, meta: { seq: 99, id: null } });
      expect(e).toMatchObject({
        type: 'LBRejected',
        data: { code: 'InvalidEvent', causationSeq: 99, causationId: null },
      });
    }
  });
});

describe('ForceReleaseAddress (Harvester manuallyReleaseIP)', () => {
  it('releases the holder of the address, marked forced, and writes its history', () => {
    const w = new World().mustCreate(P24);
    w.ip('default/a');
    const c = w.cmd.forceRelease('10.0.0.2');
    expect(w.send(c)).toEqual({
      type: 'IPReleased',
      data: {
        loadBalancer: 'default/a',
        ipPool: 'p',
        ip: '10.0.0.2',
        forced: true,
        causationSeq: c.meta.seq,
        causationId: c.meta.id,
      },
    });
    expect(w.status('p')).toMatchObject({
      available: 253,
      allocated: {},
      allocatedHistory: { '10.0.0.2': 'default/a' },
    });
    // the load balancer no longer holds it: deleting it is now a no-op rejection
    expect(w.release('default/a')).toMatchObject({
      type: 'LBRejected',
      data: { code: 'UnknownLoadBalancer' },
    });
    // and someone else can ask for exactly that address
    expect(w.allocate('default/b', { ip: '10.0.0.2' }).ip).toBe('10.0.0.2');
  });

  it('may name the pool; a non-canonical spelling of the address is accepted', () => {
    const w = new World().mustCreate(globalPool('p', 'fd00::/120'));
    w.ip('default/a'); // fd00::2
    expect(w.send(w.cmd.forceRelease('FD00:0:0::2', 'p'))).toMatchObject({
      type: 'IPReleased',
      data: { ip: 'fd00::2', ipPool: 'p', forced: true },
    });
  });

  it('an address nobody holds is rejected with AddressNotAllocated', () => {
    const w = new World().mustCreate(P24);
    w.ip('default/a');
    expect(w.send(w.cmd.forceRelease('10.0.0.9'))).toMatchObject({
      type: 'AddressRejected',
      data: { ip: '10.0.0.9', ipPool: null, code: 'AddressNotAllocated' },
    });
  });

  it('an address held in another pool than the one named is rejected with AddressNotAllocated', () => {
    const w = new World()
      .mustCreate(P24)
      .mustCreate(pool('q', '10.0.1.0/24', { scope: [{ namespace: 'x' }] }));
    w.ip('default/a');
    expect(w.send(w.cmd.forceRelease('10.0.0.2', 'q'))).toMatchObject({
      type: 'AddressRejected',
      data: { ipPool: 'q', code: 'AddressNotAllocated' },
    });
    expect(w.status('p').allocated).toEqual({ '10.0.0.2': 'default/a' });
  });

  it('an unknown pool is rejected with UnknownPool; a bad address or body with InvalidEvent', () => {
    const w = new World().mustCreate(P24);
    expect(w.send(w.cmd.forceRelease('10.0.0.2', 'nope'))).toMatchObject({
      type: 'AddressRejected',
      data: { code: 'UnknownPool' },
    });
    expect(w.send(w.cmd.forceRelease('10.0.0.02'))).toMatchObject({
      type: 'AddressRejected',
      data: { code: 'InvalidEvent' },
    });
    expect(
      w.send({ type: 'ForceReleaseAddress', data: { body: {} }, meta: { seq: 50, id: null } }),
    ).toMatchObject({
      type: 'AddressRejected',
      data: { ip: '', code: 'InvalidEvent' },
    });
  });
});

describe('ImportHistory (vip-pools migration)', () => {
  it('adds history entries, in canonical text, that load balancers then get back', () => {
    const w = new World().mustCreate(
      globalPool(
        'p',
        ['10.0.0.0/24', 'fd00::/120'].map((subnet) => ({ subnet })),
      ),
    );
    const c = w.cmd.importHistory('p', [
      { ip: '10.0.0.50', loadBalancer: 'default/svc1' },
      { ip: 'FD00::0:7', loadBalancer: 'default/svc2' },
    ]);
    expect(w.send(c)).toEqual({
      type: 'HistoryImported',
      data: {
        ipPool: 'p',
        entries: [
          { ip: '10.0.0.50', loadBalancer: 'default/svc1' },
          { ip: 'fd00::7', loadBalancer: 'default/svc2' },
        ],
        causationSeq: c.meta.seq,
        causationId: c.meta.id,
      },
    });
    expect(w.status('p').allocatedHistory).toEqual({
      '10.0.0.50': 'default/svc1',
      'fd00::7': 'default/svc2',
    });
    expect(w.allocate('default/other')).toMatchObject({ ip: '10.0.0.2', fromHistory: false });
    expect(w.allocate('default/svc2')).toMatchObject({ ip: 'fd00::7', fromHistory: true, prefixLength: 120 });
    expect(w.allocate('default/svc1')).toMatchObject({ ip: '10.0.0.50', fromHistory: true });
  });

  it('skips an address that is currently held (the holder keeps it, no history is written)', () => {
    const w = new World().mustCreate(P24);
    w.ip('default/a'); // .2
    w.send(w.cmd.importHistory('p', [{ ip: '10.0.0.2', loadBalancer: 'default/old' }]));
    expect(w.status('p')).toMatchObject({ allocated: { '10.0.0.2': 'default/a' }, allocatedHistory: {} });
  });

  it('rejects an unknown pool (UnknownPool), an address that is not allocatable there (AddressUnavailable), bad entries (InvalidEvent)', () => {
    const w = new World().mustCreate(P24);
    const code = (c: IpamCommand) => {
      const e = w.send(c);
      expect(e.type).toBe('PoolRejected');
      return e.type === 'PoolRejected' ? e.data.code : null;
    };
    expect(code(w.cmd.importHistory('nope', []))).toBe('UnknownPool');
    expect(code(w.cmd.importHistory('p', [{ ip: '10.0.1.5', loadBalancer: 'default/a' }]))).toBe(
      'AddressUnavailable',
    );
    expect(code(w.cmd.importHistory('p', [{ ip: '10.0.0.1', loadBalancer: 'default/a' }]))).toBe(
      'AddressUnavailable',
    );
    expect(code(w.cmd.importHistory('p', [{ ip: '10.0.0.5', loadBalancer: 'no-namespace' }]))).toBe(
      'InvalidEvent',
    );
    expect(code(w.cmd.importHistory('p', [{ ip: 'x', loadBalancer: 'default/a' }]))).toBe('InvalidEvent');
    expect(code({ type: 'ImportHistory', data: { body: { ipPool: 'p' } }, meta: { seq: 1, id: null } })).toBe(
      'InvalidEvent',
    );
    expect(w.status('p').allocatedHistory).toEqual({});
  });
});

describe('inputs that cannot be served', () => {
  it('RejectInput answers InvalidEvent on the pool or lb side', () => {
    const w = new World();
    expect(
      w.send({
        type: 'RejectInput',
        data: { target: 'pool', name: 'p', reason: 'not JSON' },
        meta: { seq: 7, id: 'x' },
      }),
    ).toEqual({
      type: 'PoolRejected',
      data: { name: 'p', code: 'InvalidEvent', reason: 'not JSON', causationSeq: 7, causationId: 'x' },
    });
    expect(
      w.send({
        type: 'RejectInput',
        data: { target: 'lb', name: 'default/a', reason: 'too large' },
        meta: { seq: 8, id: null },
      }),
    ).toEqual({
      type: 'LBRejected',
      data: {
        loadBalancer: 'default/a',
        code: 'InvalidEvent',
        reason: 'too large',
        causationSeq: 8,
        causationId: null,
      },
    });
  });

  it.each([
    ['no body', null],
    ['no name', { metadata: { namespace: 'default' } }],
    ['a name with "/"', { metadata: { namespace: 'default', name: 'a/b' } }],
    ['annotations not an object', { metadata: { namespace: 'default', name: 'a', annotations: 'x' } }],
    [
      'a non-string annotation',
      {
        metadata: {
          namespace: 'default',
          name: 'a',
          annotations: { 'loadbalancer.harvesterhci.io/network': 5 },
        },
      },
    ],
    [
      'an unknown workloadType',
      { metadata: { namespace: 'default', name: 'a' }, spec: { workloadType: 'pod' } },
    ],
    ['a non-string ipPool', { metadata: { namespace: 'default', name: 'a' }, spec: { ipPool: 3 } }],
  ])('a LoadBalancer with %s is rejected with InvalidEvent', (_what, body) => {
    const w = new World().mustCreate(P24);
    const e = w.send(w.cmd.requestRaw(body));
    expect(e).toMatchObject({ type: 'LBRejected', data: { code: 'InvalidEvent' } });
    expect(w.status('p').available).toBe(253);
  });
});

describe('RejectInput with a code', () => {
  it('answers InternalError on the rejection subject of the input, defaulting to InvalidEvent', () => {
    const state = initialState();
    const meta = { seq: 7, id: 'm-7' };
    expect(
      decide(
        {
          type: 'RejectInput',
          data: { target: 'ip', name: '10.0.0.7', reason: 'boom', code: 'InternalError' },
          meta,
        },
        state,
      ),
    ).toEqual([
      {
        type: 'AddressRejected',
        data: {
          ip: '10.0.0.7',
          ipPool: null,
          code: 'InternalError',
          reason: 'boom',
          causationSeq: 7,
          causationId: 'm-7',
        },
      },
    ]);
    expect(
      decide({ type: 'RejectInput', data: { target: 'lb', name: 'a/b', reason: 'bad' }, meta }, state)[0]
        .data,
    ).toMatchObject({
      code: 'InvalidEvent',
      loadBalancer: 'a/b',
    });
  });
});
