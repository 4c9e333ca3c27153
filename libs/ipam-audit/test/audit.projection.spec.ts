/**
 * The audit read model (AuditProjection) over synthetic stored streams: address timelines across
 * holders, force-release, history re-allocation, "as of" by sequence and by time (boundaries exactly at
 * from and to), load-balancer timelines with rejections; fed by the in-order fold, so forged outcomes
 * and late copies never reach it.
 */
import { globalPool, lb, lbRef, pool } from '../../ipam-domain/test/support.js';
import { holdingOf, type IPAllocatedData } from '../../ipam-domain/src/index.js';
import { AuditProjection } from '../src/index.js';
import { iso, Outcome, StoredStream, T0 } from './stream.js';

/** Stream time of the message at `seq` with the default step of 1000 ms. */
const t = (seq: number) => T0 + (seq - 1) * 1000;

function from(o: Outcome) {
  return { seq: o.message.seq, time: iso(o.message.timeMs), causationSeq: o.event.data.causationSeq };
}

function to(o: Outcome, forced = false) {
  return { ...from(o), forced };
}

function allocated(o: Outcome): IPAllocatedData {
  if (o.event.type !== 'IPAllocated') throw new Error(`expected IPAllocated, got ${JSON.stringify(o.event)}`);
  return o.event.data;
}

/**
 * The story of 10.0.0.2 in a global /24:
 *   a, b, c requested together (outcomes after the three inputs): .2 .3 .4
 *   a deleted: .2 released to history;  d requested: .5 (next-fit, not .2)
 *   a requested again: .2 from history;  a requested once more: same .2 (a repeat, not a new holding)
 *   operator force-releases .2 (forced);  e asks for exactly .2 and gets it;  f asks for .2: rejected
 *   f requested without spec.ip: .6;  g names an unknown pool: rejected;  zzz deleted: unknown
 */
function story() {
  const s = new StoredStream();
  const poolCreated = s.send('ipam.pool.created', globalPool('p', '10.0.0.0/24'));
  const a = s.input('ipam.lb.requested', lb('default/a'));
  const b = s.input('ipam.lb.requested', lb('default/b'));
  const c = s.input('ipam.lb.requested', lb('default/c'));
  const [aHeld, bHeld, cHeld] = s.flush();
  const aReleased = s.send('ipam.lb.deleted', lbRef('default/a'));
  const dHeld = s.send('ipam.lb.requested', lb('default/d'));
  const aBack = s.send('ipam.lb.requested', lb('default/a'));
  const aRepeat = s.send('ipam.lb.requested', lb('default/a'));
  const forced = s.send('ipam.ip.releaserequested', { ip: '10.0.0.2' });
  const eHeld = s.send('ipam.lb.requested', lb('default/e', { ip: '10.0.0.2' }));
  const fRejected = s.send('ipam.lb.requested', lb('default/f', { ip: '10.0.0.2' }));
  const fHeld = s.send('ipam.lb.requested', lb('default/f'));
  const gRejected = s.send('ipam.lb.requested', lb('default/g', { ipPool: 'nope' }));
  const zzzRejected = s.send('ipam.lb.deleted', lbRef('default/zzz'));
  return {
    s,
    poolCreated,
    a,
    b,
    c,
    aHeld,
    bHeld,
    cHeld,
    aReleased,
    dHeld,
    aBack,
    aRepeat,
    forced,
    eHeld,
    fRejected,
    fHeld,
    gRejected,
    zzzRejected,
  };
}

describe('the story is what the domain decides (the stream is laid out as the service stores it)', () => {
  it('inputs come first, then their outcomes, each with the causation of its input', () => {
    const x = story();
    expect(x.s.messages.slice(0, 8).map((m) => m.subject)).toEqual([
      'ipam.pool.created',
      'ipam.pool.accepted',
      'ipam.lb.requested',
      'ipam.lb.requested',
      'ipam.lb.requested',
      'ipam.ip.allocated',
      'ipam.ip.allocated',
      'ipam.ip.allocated',
    ]);
    expect(
      [x.aHeld, x.bHeld, x.cHeld].map((o) => [o.message.seq, allocated(o).causationSeq, allocated(o).ip]),
    ).toEqual([
      [6, 3, '10.0.0.2'],
      [7, 4, '10.0.0.3'],
      [8, 5, '10.0.0.4'],
    ]);
    expect(x.aHeld.message.msgId).toBe('IPAM:outcome:3');
    expect(allocated(x.dHeld).ip).toBe('10.0.0.5');
    expect(allocated(x.aBack)).toMatchObject({ ip: '10.0.0.2', fromHistory: true });
    expect(allocated(x.aRepeat)).toMatchObject({ ip: '10.0.0.2', fromHistory: false });
    expect(x.forced.event).toMatchObject({
      type: 'IPReleased',
      data: { loadBalancer: 'default/a', forced: true },
    });
    expect(allocated(x.eHeld).ip).toBe('10.0.0.2');
    expect(x.fRejected.event).toMatchObject({ type: 'LBRejected', data: { code: 'AddressUnavailable' } });
    expect(allocated(x.fHeld).ip).toBe('10.0.0.6');
    expect(x.gRejected.event).toMatchObject({ type: 'LBRejected', data: { code: 'UnknownPool' } });
    expect(x.zzzRejected.event).toMatchObject({ type: 'LBRejected', data: { code: 'UnknownLoadBalancer' } });
  });
});

describe('address timelines', () => {
  it('every holder of an address, oldest first: released, re-allocated from history, force-released, taken by someone else', () => {
    const x = story();
    const p = x.s.project();
    expect(p.address('10.0.0.2')).toEqual([
      {
        ip: '10.0.0.2',
        ipPool: 'p',
        loadBalancer: 'default/a',
        fromHistory: false,
        from: { seq: 6, time: iso(t(6)), causationSeq: 3 },
        to: {
          seq: x.aReleased.message.seq,
          time: iso(x.aReleased.message.timeMs),
          causationSeq: x.aReleased.inputSeq,
          forced: false,
        },
      },
      {
        ip: '10.0.0.2',
        ipPool: 'p',
        loadBalancer: 'default/a',
        fromHistory: true,
        from: from(x.aBack),
        to: to(x.forced, true),
      },
      {
        ip: '10.0.0.2',
        ipPool: 'p',
        loadBalancer: 'default/e',
        fromHistory: false,
        from: from(x.eHeld),
        to: null,
      },
    ]);
    expect(p.address('10.0.0.3')).toEqual([
      {
        ip: '10.0.0.3',
        ipPool: 'p',
        loadBalancer: 'default/b',
        fromHistory: false,
        from: from(x.bHeld),
        to: null,
      },
    ]);
    expect(p.address('10.0.0.6').map((h) => h.loadBalancer)).toEqual(['default/f']);
    expect(p.address('10.0.0.99')).toEqual([]);
  });

  it('a repeated request of a holder does not create a second holding', () => {
    const x = story();
    const p = x.s.project();
    const aHoldings = p.address('10.0.0.2').filter((h) => h.loadBalancer === 'default/a');
    expect(aHoldings).toHaveLength(2);
    // the second holding starts at the history re-allocation, not at the repeat
    expect(aHoldings[1].from.causationSeq).toBe(x.aBack.inputSeq);
    expect(aHoldings[1].from.causationSeq).not.toBe(x.aRepeat.inputSeq);
    // requested four times while holding: still one holding
    const s = new StoredStream();
    s.send('ipam.pool.created', globalPool('p', '10.0.0.0/24'));
    for (let i = 0; i < 4; i++) s.input('ipam.lb.requested', lb('ns/x'));
    expect(s.flush().map((o) => allocated(o).ip)).toEqual(['10.0.0.2', '10.0.0.2', '10.0.0.2', '10.0.0.2']);
    expect(s.project().address('10.0.0.2')).toHaveLength(1);
    expect(s.project().loadBalancer('ns/x')).toHaveLength(1);
  });

  it('a release and the next allocation decided together are stored in input order', () => {
    const s = new StoredStream();
    s.send(
      'ipam.pool.created',
      pool('tiny', [{ subnet: '10.0.0.0/24', rangeStart: '10.0.0.10', rangeEnd: '10.0.0.10' }], {
        scope: [{ namespace: 'ns' }],
      }),
    );
    s.send('ipam.lb.requested', lb('ns/x'));
    const release = s.input('ipam.lb.deleted', lbRef('ns/x'));
    const take = s.input('ipam.lb.requested', lb('ns/y'));
    const [released, taken] = s.flush();
    expect(released.event.type).toBe('IPReleased');
    expect(allocated(taken).ip).toBe('10.0.0.10');
    const h = s.project().address('10.0.0.10');
    expect(h.map((x) => [x.loadBalancer, x.from.causationSeq, x.to?.causationSeq ?? null])).toEqual([
      ['ns/x', 3, release],
      ['ns/y', take, null],
    ]);
  });
});

describe('as of a sequence', () => {
  const x = story();
  const p = x.s.project();
  const holderAt = (seq: number) =>
    p.address('10.0.0.2', { seq }).map((h) => `${h.loadBalancer}@${h.from.seq}`);

  it('exactly at `from` the holder holds it; just before, nobody', () => {
    expect(holderAt(5)).toEqual([]);
    expect(holderAt(6)).toEqual(['default/a@6']);
  });

  it('the release input alone changes nothing: the outcome does', () => {
    expect(holderAt(x.aReleased.inputSeq)).toEqual(['default/a@6']);
    expect(holderAt(x.aReleased.message.seq - 1)).toEqual(['default/a@6']);
  });

  it('exactly at `to` the holder no longer holds it', () => {
    expect(holderAt(x.aReleased.message.seq)).toEqual([]);
    expect(holderAt(x.aBack.message.seq - 1)).toEqual([]);
    expect(holderAt(x.aBack.message.seq)).toEqual([`default/a@${x.aBack.message.seq}`]);
    expect(holderAt(x.forced.message.seq - 1)).toEqual([`default/a@${x.aBack.message.seq}`]);
    expect(holderAt(x.forced.message.seq)).toEqual([]);
  });

  it('the current holder holds it from its `from` on, past the end of the stream', () => {
    expect(holderAt(x.eHeld.message.seq)).toEqual([`default/e@${x.eHeld.message.seq}`]);
    expect(holderAt(1_000_000)).toEqual([`default/e@${x.eHeld.message.seq}`]);
  });

  it('the holding returned is the whole holding (with its `to`), and no as-of means every holder', () => {
    expect(p.address('10.0.0.2', { seq: 8 })).toEqual([p.address('10.0.0.2')[0]]);
    expect(p.address('10.0.0.2', {})).toHaveLength(3);
    expect(p.address('10.0.0.2')).toHaveLength(3);
  });
});

describe('as of a time', () => {
  const x = story();
  const p = x.s.project();
  const holderAt = (time: number) =>
    p.address('10.0.0.2', { time }).map((h) => `${h.loadBalancer}@${h.from.seq}`);

  it('exactly at `from` (ms) the holder holds it; 1 ms before, nobody', () => {
    expect(holderAt(t(6) - 1)).toEqual([]);
    expect(holderAt(t(6))).toEqual(['default/a@6']);
  });

  it('exactly at `to` the holder no longer holds it; 1 ms before it still does', () => {
    const released = x.aReleased.message.timeMs;
    expect(holderAt(released - 1)).toEqual(['default/a@6']);
    expect(holderAt(released)).toEqual([]);
    expect(holderAt(x.forced.message.timeMs - 1)).toEqual([`default/a@${x.aBack.message.seq}`]);
    expect(holderAt(x.forced.message.timeMs)).toEqual([]);
  });

  it('before the stream and long after it', () => {
    expect(holderAt(T0 - 86_400_000)).toEqual([]);
    expect(holderAt(T0 + 365 * 86_400_000)).toEqual([`default/e@${x.eHeld.message.seq}`]);
  });

  it('a release and a new allocation stored in the same millisecond: at that ms only the new holder', () => {
    const s = new StoredStream();
    s.send('ipam.pool.created', globalPool('p', '10.0.0.0/24'));
    s.send('ipam.lb.requested', lb('ns/x'));
    s.step = 0; // everything below is stored in one millisecond
    const same = s.clock;
    s.input('ipam.lb.deleted', lbRef('ns/x'));
    s.input('ipam.lb.requested', lb('ns/y', { ip: '10.0.0.2' }));
    s.flush();
    const q = s.project();
    expect(q.address('10.0.0.2', { time: same - 1 }).map((h) => h.loadBalancer)).toEqual(['ns/x']);
    expect(q.address('10.0.0.2', { time: same }).map((h) => h.loadBalancer)).toEqual(['ns/y']);
    expect(q.address('10.0.0.2').map((h) => [h.from.time, h.to?.time ?? null])).toEqual([
      [iso(t(4)), iso(same)],
      [iso(same), null],
    ]);
  });
});

describe('load-balancer timelines', () => {
  const x = story();
  const p = x.s.project();

  it('every address held and every rejection, oldest first, with code and reason', () => {
    expect(p.loadBalancer('default/f')).toEqual([
      {
        kind: 'rejected',
        loadBalancer: 'default/f',
        code: 'AddressUnavailable',
        reason: '10.0.0.2 in pool "p" is held by default/e; ask for another address or leave spec.ip empty.',
        at: from(x.fRejected),
      },
      {
        kind: 'held',
        ip: '10.0.0.6',
        ipPool: 'p',
        loadBalancer: 'default/f',
        fromHistory: false,
        from: from(x.fHeld),
        to: null,
      },
    ]);
    expect(p.loadBalancer('default/g')).toEqual([
      {
        kind: 'rejected',
        loadBalancer: 'default/g',
        code: 'UnknownPool',
        reason: expect.stringMatching(/"nope"/),
        at: from(x.gRejected),
      },
    ]);
    expect(p.loadBalancer('default/zzz')).toEqual([
      {
        kind: 'rejected',
        loadBalancer: 'default/zzz',
        code: 'UnknownLoadBalancer',
        reason: expect.any(String),
        at: from(x.zzzRejected),
      },
    ]);
  });

  it('a load balancer that held the same address twice, the second time from history and force-released', () => {
    const a = p.loadBalancer('default/a');
    expect(a.map((e) => e.kind)).toEqual(['held', 'held']);
    expect(a).toEqual([
      expect.objectContaining({
        kind: 'held',
        ip: '10.0.0.2',
        fromHistory: false,
        to: expect.objectContaining({ forced: false }),
      }),
      expect.objectContaining({ kind: 'held', ip: '10.0.0.2', fromHistory: true, to: to(x.forced, true) }),
    ]);
  });

  it('as of a sequence or a time: the entries up to then', () => {
    expect(p.loadBalancer('default/a', { seq: x.aBack.message.seq - 1 })).toHaveLength(1);
    expect(p.loadBalancer('default/a', { seq: x.aBack.message.seq })).toHaveLength(2);
    expect(p.loadBalancer('default/a', { time: x.aBack.message.timeMs - 1 })).toHaveLength(1);
    expect(p.loadBalancer('default/a', { time: x.aBack.message.timeMs })).toHaveLength(2);
    expect(p.loadBalancer('default/f', { seq: x.fRejected.message.seq }).map((e) => e.kind)).toEqual([
      'rejected',
    ]);
    expect(p.loadBalancer('default/f', { time: x.fHeld.message.timeMs }).map((e) => e.kind)).toEqual([
      'rejected',
      'held',
    ]);
    expect(p.loadBalancer('default/f', { seq: 1 })).toEqual([]);
    expect(p.loadBalancer('default/nobody')).toEqual([]);
  });

  it('queries hand out copies: changing a result does not change the projection', () => {
    const [first] = p.address('10.0.0.3');
    first.loadBalancer = 'mangled';
    expect(p.address('10.0.0.3')[0].loadBalancer).toBe('default/b');
  });
});

describe('only the answers the in-order fold accepts reach the projection', () => {
  it('a second allocation for an answered input (another address), and a copy of an answer, are refused', () => {
    const x = story();
    const dCause = x.dHeld.inputSeq;
    const forged = { ...allocated(x.dHeld), ip: '10.0.0.99' };
    x.s.store('ipam.ip.allocated', JSON.stringify(forged), 'forged');
    // and the very same outcome stored twice (a retried publish outside the duplicate window)
    x.s.store('ipam.ip.allocated', x.eHeld.message.data, 'again');
    const p = x.s.project();
    expect(p.address('10.0.0.99')).toEqual([]);
    expect(p.loadBalancer('default/d')).toEqual([{ kind: 'held', ...p.address('10.0.0.5')[0] }]);
    expect(p.address('10.0.0.5')[0].from.causationSeq).toBe(dCause);
    expect(p.address('10.0.0.2')).toHaveLength(3);
  });

  it('a release carrying the causation of an answered request does not end the holding', () => {
    const x = story();
    const e = allocated(x.eHeld);
    x.s.store(
      'ipam.ip.released',
      JSON.stringify({
        loadBalancer: e.loadBalancer,
        ipPool: 'p',
        ip: e.ip,
        causationSeq: e.causationSeq,
        causationId: null,
      }),
    );
    expect(x.s.project().address('10.0.0.2')[2].to).toBeNull();
  });

  it('a forged ipam.ip.rejected stored first for a force-release is refused: the release this build decides ends the holding', () => {
    const s = new StoredStream();
    s.send('ipam.pool.created', globalPool('p', '10.0.0.0/24'));
    const x = s.send('ipam.lb.requested', lb('ns/x'));
    const seq = s.input(
      'ipam.ip.releaserequested',
      { ip: '10.0.0.2' },
      {
        forge: (decided) => ({
          type: 'AddressRejected',
          data: {
            ip: '10.0.0.2',
            ipPool: null,
            code: 'AddressNotAllocated',
            reason: 'forged',
            causationSeq: decided.data.causationSeq,
            causationId: decided.data.causationId,
          },
        }),
      },
    );
    const [released] = s.flush();
    expect(s.messages[seq].subject).toBe('ipam.ip.rejected');
    expect(released.message.subject).toBe('ipam.ip.released');
    expect(holdingOf(s.state, 'ns/x')).toBeUndefined();
    expect(s.project().address('10.0.0.2')).toEqual([
      expect.objectContaining({ loadBalancer: 'ns/x', from: from(x), to: to(released, true) }),
    ]);
  });

  it('an allocation forged for an input this build rejects never becomes a holding', () => {
    const s = new StoredStream();
    s.send('ipam.pool.created', globalPool('p', '10.0.0.0/24'));
    const r = s.send('ipam.lb.requested', lb('ns/x', { ipPool: 'nope' }), {
      forge: (decided) => ({
        type: 'IPAllocated',
        data: {
          loadBalancer: 'ns/x',
          ipPool: 'p',
          ip: '10.0.0.50',
          mask: '255.255.255.0',
          prefixLength: 24,
          gateway: null,
          fromHistory: false,
          causationSeq: decided.data.causationSeq,
          causationId: decided.data.causationId,
        },
      }),
    });
    expect(r.message.subject).toBe('ipam.lb.rejected');
    const p = s.project();
    expect(p.address('10.0.0.50')).toEqual([]);
    expect(p.loadBalancer('ns/x')).toEqual([
      expect.objectContaining({ kind: 'rejected', code: 'UnknownPool' }),
    ]);
  });

  it('an outcome stored before its input (naming a later sequence) is not its answer: the real one counts', () => {
    const s = new StoredStream();
    s.send('ipam.pool.created', globalPool('p', '10.0.0.0/24'));
    const future = s.lastSeq + 2;
    s.store(
      'ipam.ip.allocated',
      JSON.stringify({
        loadBalancer: 'ns/x',
        ipPool: 'p',
        ip: '10.0.0.99',
        fromHistory: false,
        causationSeq: future,
        causationId: null,
      }),
    );
    const x = s.send('ipam.lb.requested', lb('ns/x'));
    expect(x.inputSeq).toBe(future);
    const p = s.project();
    expect(p.address('10.0.0.99')).toEqual([]);
    expect(p.loadBalancer('ns/x')).toEqual([
      expect.objectContaining({ kind: 'held', ip: '10.0.0.2', from: from(x) }),
    ]);
  });
});

describe('what the projection ignores', () => {
  it('inputs, pool outcomes, bodies that are not JSON or lack causationSeq, and unknown subjects', () => {
    const s = new StoredStream();
    s.send('ipam.pool.created', globalPool('p', '10.0.0.0/24'));
    s.store('ipam.ip.allocated', 'not json');
    s.store('ipam.ip.allocated', 'null');
    s.store('ipam.ip.released', '[1]');
    s.store('ipam.ip.allocated', JSON.stringify({ loadBalancer: 'ns/q', ipPool: 'p', ip: '10.0.0.9' }));
    s.store(
      'ipam.ip.allocated',
      JSON.stringify({ loadBalancer: 'ns/q', ipPool: 'p', ip: '10.0.0.9', causationSeq: 'x' }),
    );
    s.store(
      'ipam.lb.somethingelse',
      JSON.stringify({ loadBalancer: 'ns/q', ipPool: 'p', ip: '10.0.0.9', causationSeq: 1 }),
    );
    const p = s.project();
    expect(p.address('10.0.0.9')).toEqual([]);
    expect(p.loadBalancer('ns/q')).toEqual([]);
  });

  it('an empty projection answers empty timelines', () => {
    const p = new AuditProjection();
    expect(p.address('10.0.0.1')).toEqual([]);
    expect(p.address('10.0.0.1', { seq: 5 })).toEqual([]);
    expect(p.loadBalancer('a/b', { time: Date.now() })).toEqual([]);
  });
});
