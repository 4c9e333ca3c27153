/**
 * The audit read model handed over as columns (what a worker thread that built it posts): a model made
 * from its columns, after a structured clone as postMessage makes, answers every timeline as the
 * original, and goes on applying answers as the original does.
 */
import { globalPool, lb, lbRef } from '../../ipam-domain/test/support.js';
import { AuditProjection } from '../src/index.js';
import { StoredStream } from './stream.js';

function story() {
  const s = new StoredStream();
  s.send('ipam.pool.created', globalPool('p', '10.0.0.0/24'));
  for (let i = 0; i < 6; i++) s.send('ipam.lb.requested', lb(`default/l${i}`));
  s.send('ipam.lb.deleted', lbRef('default/l1'));
  s.send('ipam.lb.requested', lb('default/l1'));
  s.send('ipam.ip.releaserequested', { ip: '10.0.0.4' });
  s.send('ipam.lb.requested', lb('default/x', { ipPool: 'nope' }));
  s.send('ipam.lb.deleted', lbRef('default/l3'));
  return s;
}

const ADDRESSES = [
  '10.0.0.2',
  '10.0.0.3',
  '10.0.0.4',
  '10.0.0.5',
  '10.0.0.6',
  '10.0.0.7',
  '10.0.0.8',
  '10.0.0.9',
];
const LBS = [
  'default/l0',
  'default/l1',
  'default/l2',
  'default/l3',
  'default/l4',
  'default/l5',
  'default/x',
  'default/y',
];

function answers(p: AuditProjection) {
  return {
    addresses: ADDRESSES.map((ip) => [p.address(ip), p.address(ip, { seq: 9 })]),
    lbs: LBS.map((k) => [p.loadBalancer(k), p.loadBalancer(k, { seq: 9 })]),
  };
}

describe('the audit read model as columns', () => {
  it('a model rebuilt from its cloned columns answers as the original, and applies further answers alike', () => {
    const s = story();
    const original = s.project();
    const copy = AuditProjection.fromColumns(structuredClone(original.toColumns()));
    expect(answers(copy)).toEqual(answers(original));
    expect(answers(original).addresses.flat(2).length).toBeGreaterThan(5);
    // a further answer: l4 releases 10.0.0.6 (its open holding was carried over)
    const release = {
      type: 'IPReleased' as const,
      data: { loadBalancer: 'default/l4', ipPool: 'p', ip: '10.0.0.6', causationSeq: 99, causationId: null },
    };
    for (const p of [original, copy]) p.apply(100, Date.UTC(2026, 3, 1), release as never);
    expect(answers(copy)).toEqual(answers(original));
    expect(copy.address('10.0.0.6').at(-1)?.to?.seq).toBe(100);
  });
});
