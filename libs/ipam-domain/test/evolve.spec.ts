/**
 * evolve never throws, and an event that does not fit the state is skipped: the log is the record and
 * the state only reflects it. Such events never come from decide; they are what a damaged or forged log
 * could hold. Given a state, when such an event is folded, then nothing changes.
 */
import { evolve, holdingOf, IpamEvent, poolViews } from '../src/index.js';
import { globalPool, pool, World } from './support.js';

const causation = { causationSeq: 999, causationId: null };

function allocatedEvent(loadBalancer: string, ipPool: string, ip: string): IpamEvent {
  return {
    type: 'IPAllocated',
    data: {
      loadBalancer,
      ipPool,
      ip,
      mask: '255.255.255.0',
      prefixLength: 24,
      gateway: '10.0.0.1',
      fromHistory: false,
      ...causation,
    },
  };
}

function releasedEvent(loadBalancer: string, ipPool: string, ip: string): IpamEvent {
  return { type: 'IPReleased', data: { loadBalancer, ipPool, ip, ...causation } };
}

/** Two pools; default/a holds 10.0.0.2 in p, default/b held 10.0.0.3 (history), default/c holds fd00::2 in q. */
function given(): World {
  const w = new World()
    .mustCreate(globalPool('p', '10.0.0.0/24'))
    .mustCreate(pool('q', 'fd00::/64', { scope: [{ namespace: 'v6' }] }));
  w.ip('default/a');
  w.ip('default/b');
  w.mustRelease('default/b');
  w.ip('v6/c');
  return w;
}

function view(w: World) {
  return {
    pools: poolViews(w.state),
    held: ['default/a', 'default/b', 'v6/c', 'default/new'].map((k) => holdingOf(w.state, k) ?? null),
  };
}

describe('evolve skips events that do not fit the state', () => {
  it.each<[string, IpamEvent]>([
    ['an allocation in a pool that does not exist', allocatedEvent('default/new', 'nope', '10.0.0.9')],
    ['an allocation outside the pool', allocatedEvent('default/new', 'p', '10.0.1.9')],
    ['an allocation of the gateway', allocatedEvent('default/new', 'p', '10.0.0.1')],
    ['an allocation of an address someone holds', allocatedEvent('default/new', 'p', '10.0.0.2')],
    ['a second address for a load balancer that holds one', allocatedEvent('default/a', 'p', '10.0.0.9')],
    ['an allocation with text that is no address', allocatedEvent('default/new', 'p', '10.0.0.300')],
    ['an IPv6 allocation of an address someone holds', allocatedEvent('default/new', 'q', 'fd00::2')],
    ['a release of an address the load balancer does not hold', releasedEvent('default/a', 'p', '10.0.0.9')],
    ['a release of another holder’s address', releasedEvent('default/a', 'q', 'fd00::2')],
    ['a release naming the wrong pool', releasedEvent('default/a', 'q', '10.0.0.2')],
    ['a release by a load balancer that holds nothing', releasedEvent('default/b', 'p', '10.0.0.3')],
    ['a release with text that is no address', releasedEvent('default/a', 'p', 'ten')],
    ['an IPv6 release of another address', releasedEvent('v6/c', 'q', 'fd00::3')],
  ])('%s', (_name, event) => {
    const w = given();
    const before = view(w);
    expect(() => evolve(w.state, event)).not.toThrow();
    expect(view(w)).toEqual(before);
  });

  it('a pool deleted while it holds addresses (decide refuses this) takes its holdings and history with it', () => {
    const w = given();
    evolve(w.state, { type: 'PoolAccepted', data: { name: 'p', change: 'deleted', ...causation } });
    expect(poolViews(w.state).map((v) => v.metadata.name)).toEqual(['q']);
    expect(holdingOf(w.state, 'default/a')).toBeUndefined();
    expect(w.state.loadBalancers.has('default/b')).toBe(false); // its only history was in p
    expect(w.state.held).toBe(1);
    // and the load balancer can be served again by a new pool
    w.mustCreate(globalPool('p2', '10.9.0.0/24'));
    expect(w.ip('default/a')).toBe('10.9.0.2');
  });
});
