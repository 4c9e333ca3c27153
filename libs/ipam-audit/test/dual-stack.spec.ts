/**
 * The audit read model and dual-stack load balancers: one open holding per load balancer and address,
 * so both addresses of a dual-stack allocation are in the address timelines and the load balancer's,
 * a repeated request opens nothing new, and the release closes both.
 */
import type { IpamEvent } from '../../ipam-domain/src/index.js';
import { AuditProjection } from '../src/index.js';

const T0 = Date.parse('2026-11-24T14:00:00Z');
const v4 = {
  ip: '10.0.0.2',
  mask: '255.255.255.0',
  prefixLength: 24,
  gateway: '10.0.0.1',
  ipPool: 'v4',
  fromHistory: false,
};
const v6 = {
  ip: 'fd00::2',
  mask: 'ffff:ffff:ffff:ffff::',
  prefixLength: 64,
  gateway: 'fd00::1',
  ipPool: 'v6',
  fromHistory: true,
};

function allocated(causationSeq: number): IpamEvent {
  return {
    type: 'IPAllocated',
    data: { causationSeq, causationId: null, loadBalancer: 'default/ds', ...v4, addresses: [v4, v6] },
  };
}

const released: IpamEvent = {
  type: 'IPReleased',
  data: {
    causationSeq: 5,
    causationId: null,
    loadBalancer: 'default/ds',
    ipPool: 'v4',
    ip: '10.0.0.2',
    addresses: [
      { ip: '10.0.0.2', ipPool: 'v4' },
      { ip: 'fd00::2', ipPool: 'v6' },
    ],
  },
};

describe('a dual-stack load balancer in the audit read model', () => {
  it('holds each of its addresses from its allocation to its release, each in its own address timeline', () => {
    const audit = new AuditProjection();
    audit.apply(2, T0 + 2000, allocated(1));
    // a repeated request answers the same allocation: no new holding
    audit.apply(4, T0 + 4000, allocated(3));

    const held = { loadBalancer: 'default/ds', from: { seq: 2, causationSeq: 1 }, to: null };
    expect(audit.address('10.0.0.2')).toMatchObject([
      { ...held, ip: '10.0.0.2', ipPool: 'v4', fromHistory: false },
    ]);
    expect(audit.address('fd00::2')).toMatchObject([
      { ...held, ip: 'fd00::2', ipPool: 'v6', fromHistory: true },
    ]);
    expect(audit.loadBalancer('default/ds').map((e) => e.kind === 'held' && e.ip)).toEqual([
      '10.0.0.2',
      'fd00::2',
    ]);

    audit.apply(6, T0 + 6000, released);
    for (const ip of ['10.0.0.2', 'fd00::2']) {
      const [h] = audit.address(ip);
      expect(h.to).toMatchObject({ seq: 6, causationSeq: 5, forced: false });
      expect(audit.address(ip, { seq: 5 })).toHaveLength(1);
      expect(audit.address(ip, { seq: 6 })).toHaveLength(0);
    }

    // allocated again afterwards: a new holding of each address
    audit.apply(8, T0 + 8000, allocated(7));
    expect(audit.address('fd00::2').map((h) => h.from.seq)).toEqual([2, 8]);
    expect(audit.address('10.0.0.2', { seq: 8 })).toMatchObject([{ from: { seq: 8 }, to: null }]);
  });
});
