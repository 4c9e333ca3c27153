/**
 * verifyReplay with the service's codec over synthetic stored streams: a clean mixed stream verifies;
 * a changed outcome is the first divergence (with both bodies); an input with no outcome is unanswered;
 * inputs that cannot be read verify like any other; the first outcome of an input is the one compared.
 */
import { globalPool, lb } from '../../ipam-domain/test/support.js';
import type { IpamEvent } from '../../ipam-domain/src/index.js';
import type { StoredEvent } from '../../ipam-contract/src/index.js';
import { verifyReplay } from '../src/index.js';
import { bodyOf, codec, MAX_BYTES, mixedStream, StoredStream } from './stream.js';

const clean = mixedStream(3000, 7);

function countBy(messages: StoredEvent[], f: (m: StoredEvent) => string | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of messages) {
    const k = f(m);
    if (k !== null) out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

async function* asAsync(messages: StoredEvent[]): AsyncGenerator<StoredEvent> {
  for (const m of messages) yield m;
}

describe('a clean stream verifies', () => {
  it('the generated stream is mixed: every kind of outcome is in it', () => {
    const outcomes = countBy(clean.messages, (m) => {
      if (codec.eventType(m.subject) === null) return null;
      const b = bodyOf(m);
      if (m.subject === 'ipam.ip.allocated') return b.fromHistory ? 'allocated/history' : 'allocated';
      if (m.subject === 'ipam.ip.released') return b.forced ? 'released/forced' : 'released';
      return `${m.subject}/${String(b.code ?? b.change)}`;
    });
    const kinds = [
      'allocated',
      'allocated/history',
      'released',
      'released/forced',
      'ipam.lb.rejected/PoolExhausted',
      'ipam.lb.rejected/UnknownLoadBalancer',
      'ipam.lb.rejected/AddressUnavailable',
      'ipam.lb.rejected/UnknownPool',
      'ipam.lb.rejected/InvalidEvent',
      'ipam.ip.rejected/AddressNotAllocated',
      'ipam.ip.rejected/InvalidEvent',
      'ipam.pool.accepted/updated',
      'ipam.pool.accepted/deleted',
      'ipam.pool.rejected/PoolExists',
      'ipam.pool.rejected/AllocatedOutOfRange',
      'ipam.pool.rejected/InvalidEvent',
      'ipam.pool.historyrestored/undefined',
    ];
    expect(kinds.filter((k) => !(outcomes[k] > 0))).toEqual([]);
    expect(clean.messages.length).toBe(6000);
  });

  it('several inputs are stored before their outcomes', () => {
    let longest = 0;
    let run = 0;
    for (const m of clean.messages) {
      run = codec.eventType(m.subject) === null ? run + 1 : 0;
      longest = Math.max(longest, run);
    }
    expect(longest).toBeGreaterThanOrEqual(4);
  });

  it('every input matched, none unanswered, no divergence', async () => {
    const report = await verifyReplay(() => clean.messages, codec);
    expect(report).toEqual({
      inputs: 3000,
      matched: 3000,
      unanswered: [],
      firstDivergence: null,
      divergences: 0,
    });
  });

  it('reads an async source once (as from EventStore.read) and reports progress every 10,000 events', async () => {
    let reads = 0;
    const progress: number[] = [];
    // 6,000 events of the stream, then 5,000 messages on a subject that is neither input nor outcome
    const filler: StoredEvent[] = Array.from({ length: 5000 }, (_, i) => ({
      seq: clean.lastSeq + 1 + i,
      subject: 'ipam.lb.unrelated',
      timeMs: 0,
      msgId: null,
      data: new Uint8Array(),
    }));
    const report = await verifyReplay(
      () => {
        reads++;
        return asAsync([...clean.messages, ...filler]);
      },
      codec,
      (seq) => progress.push(seq),
    );
    expect(reads).toBe(1);
    expect(progress).toEqual([10_000]);
    expect(report).toMatchObject({ inputs: 3000, matched: 3000, divergences: 0 });
  });
});

describe('divergences', () => {
  /** An allocation in the middle of the clean stream, its input and its outcome message. */
  function anAllocation(s: StoredStream) {
    const m = s.messages.find((x) => x.seq > s.lastSeq / 2 && x.subject === 'ipam.ip.allocated')!;
    const body = bodyOf(m);
    return { message: m, body, inputSeq: body.causationSeq as number };
  }

  it('one changed outcome (another ip) is the first divergence, with both bodies', async () => {
    const s = mixedStream(3000, 7);
    const { message, body, inputSeq } = anAllocation(s);
    const changed = { ...body, ip: '10.77.0.1' };
    s.messages[message.seq - 1] = { ...message, data: new TextEncoder().encode(JSON.stringify(changed)) };
    const report = await verifyReplay(() => s.messages, codec);
    expect(report.firstDivergence).toEqual({
      inputSeq,
      inputSubject: 'ipam.lb.requested',
      recorded: { seq: message.seq, subject: 'ipam.ip.allocated', body: changed },
      decided: { subject: 'ipam.ip.allocated', body },
    });
    expect(report.divergences).toBeGreaterThanOrEqual(1);
    expect(report.matched + report.divergences).toBe(3000);
    expect(report.unanswered).toEqual([]);
  });

  it('an outcome another build recorded (and the service applied) diverges once: later inputs match again', async () => {
    // the recorded allocation takes another free address of the pool; the state goes on from it
    const s = new StoredStream();
    s.send('ipam.pool.created', globalPool('p', '10.0.0.0/24'));
    for (let i = 0; i < 5; i++) s.send('ipam.lb.requested', lb(`ns/a${i}`));
    const forgedSeq = s.input('ipam.lb.requested', lb('ns/x'), {
      forge: (e: IpamEvent) =>
        e.type === 'IPAllocated' ? { ...e, data: { ...e.data, ip: '10.0.0.200' } } : e,
    });
    s.input('ipam.lb.requested', lb('ns/y'));
    s.input('ipam.lb.requested', lb('ns/z', { ip: '10.0.0.200' }));
    const [x, y, z] = s.flush();
    expect([x.event.data, y.event.data]).toMatchObject([{ ip: '10.0.0.200' }, { ip: '10.0.0.201' }]);
    expect(z.event).toMatchObject({ type: 'LBRejected', data: { code: 'AddressUnavailable' } });
    const report = await verifyReplay(() => s.messages, codec);
    expect(report).toMatchObject({ inputs: 9, matched: 8, divergences: 1, unanswered: [] });
    expect(report.firstDivergence).toMatchObject({
      inputSeq: forgedSeq,
      recorded: { subject: 'ipam.ip.allocated', body: { ip: '10.0.0.200', loadBalancer: 'ns/x' } },
      decided: { subject: 'ipam.ip.allocated', body: { ip: '10.0.0.7', loadBalancer: 'ns/x' } },
    });
  });

  it('a recorded outcome on another subject (a rejection where this build allocates)', async () => {
    const s = new StoredStream();
    s.send('ipam.pool.created', globalPool('p', '10.0.0.0/24'));
    const seq = s.input('ipam.lb.requested', lb('ns/x'), {
      forge: (e) => ({
        type: 'LBRejected',
        data: {
          loadBalancer: 'ns/x',
          code: 'PoolExhausted',
          reason: 'old build',
          causationSeq: e.data.causationSeq,
          causationId: e.data.causationId,
        },
      }),
    });
    s.flush();
    const report = await verifyReplay(() => s.messages, codec);
    expect(report.divergences).toBe(1);
    expect(report.firstDivergence).toMatchObject({
      inputSeq: seq,
      recorded: { seq: seq + 1, subject: 'ipam.lb.rejected', body: { code: 'PoolExhausted' } },
      decided: { subject: 'ipam.ip.allocated', body: { ip: '10.0.0.2' } },
    });
  });

  it('the first divergence is the earliest input, whatever follows', async () => {
    const s = mixedStream(600, 3);
    const allocations = s.messages.filter((m) => m.subject === 'ipam.ip.allocated');
    const [early, late] = [allocations[10], allocations[allocations.length - 10]];
    for (const m of [late, early]) {
      s.messages[m.seq - 1] = {
        ...m,
        data: new TextEncoder().encode(JSON.stringify({ ...bodyOf(m), fromHistory: !bodyOf(m).fromHistory })),
      };
    }
    const report = await verifyReplay(() => s.messages, codec);
    expect(report.firstDivergence?.inputSeq).toBe(bodyOf(early).causationSeq);
    expect(report.divergences).toBeGreaterThanOrEqual(2);
  });
});

describe('unanswered inputs', () => {
  it('inputs with no outcome at the end of the stream are listed, not divergences', async () => {
    const s = mixedStream(200, 5);
    const a = s.input('ipam.lb.requested', lb('ns1/late'), { answer: false });
    const b = s.input('ipam.lb.deleted', { metadata: { namespace: 'ns1', name: 'late' } }, { answer: false });
    const report = await verifyReplay(() => s.messages, codec);
    expect(report).toEqual({
      inputs: 202,
      matched: 200,
      unanswered: [a, b],
      firstDivergence: null,
      divergences: 0,
    });
  });
});

describe('inputs that cannot be read', () => {
  it('bad JSON, a wrong shape and an oversized body are answered with InvalidEvent and verify as matched', async () => {
    const s = new StoredStream();
    s.send('ipam.pool.created', globalPool('p', '10.0.0.0/24'));
    const answers = [
      s.send('ipam.lb.requested', null, { raw: 'not json' }),
      s.send('ipam.pool.created', null, { raw: '{"metadata":' }),
      s.send('ipam.ip.releaserequested', null, { raw: '[1,2,3]' }),
      s.send('ipam.lb.deleted', { metadata: { namespace: 'ns', name: 42 } }),
      s.send('ipam.lb.requested', null, {
        raw: JSON.stringify({ metadata: { namespace: 'ns', name: 'big' }, pad: 'x'.repeat(MAX_BYTES) }),
      }),
    ];
    expect(answers.map((a) => [a.message.subject, (a.event.data as { code?: string }).code])).toEqual([
      ['ipam.lb.rejected', 'InvalidEvent'],
      ['ipam.pool.rejected', 'InvalidEvent'],
      ['ipam.ip.rejected', 'InvalidEvent'],
      ['ipam.lb.rejected', 'InvalidEvent'],
      ['ipam.lb.rejected', 'InvalidEvent'],
    ]);
    // the lenient name: the oversized body is not parsed, the shape error keeps what it could read
    expect(answers[4].event.data).toMatchObject({
      loadBalancer: '',
      reason: expect.stringMatching(/more than the limit/),
    });
    expect(answers[3].event.data).toMatchObject({ loadBalancer: '' });
    const report = await verifyReplay(() => s.messages, codec);
    expect(report).toEqual({ inputs: 6, matched: 6, unanswered: [], firstDivergence: null, divergences: 0 });
  });
});

describe('which recorded outcome is compared', () => {
  it('the first outcome of an input; a later different one is ignored', async () => {
    const s = new StoredStream();
    s.send('ipam.pool.created', globalPool('p', '10.0.0.0/24'));
    const x = s.send('ipam.lb.requested', lb('ns/x'));
    s.store('ipam.ip.allocated', JSON.stringify({ ...x.event.data, ip: '10.0.0.99' }), 'late-duplicate');
    s.send('ipam.lb.requested', lb('ns/y'));
    const report = await verifyReplay(() => s.messages, codec);
    expect(report).toMatchObject({ inputs: 3, matched: 3, divergences: 0 });
  });

  it('an outcome the service would not read (not JSON) is not the recorded one: the service answered after it', async () => {
    const s = new StoredStream();
    s.send('ipam.pool.created', globalPool('p', '10.0.0.0/24'));
    const seq = s.input('ipam.lb.requested', lb('ns/x'));
    // a broken message on an outcome subject, stored before the service's answer; the service ignores it
    s.store('ipam.ip.allocated', `{"causationSeq":${seq},"ip":`, 'broken');
    s.flush();
    const report = await verifyReplay(() => s.messages, codec);
    expect(report).toMatchObject({ inputs: 2, matched: 2, divergences: 0, firstDivergence: null });
  });

  it('an outcome written by another publisher with other JSON spacing counts as the answer, as for the service', async () => {
    const s = new StoredStream();
    s.send('ipam.pool.created', globalPool('p', '10.0.0.0/24'));
    const seq = s.input('ipam.lb.requested', lb('ns/x'), { answer: false });
    s.store(
      'ipam.lb.rejected',
      JSON.stringify(
        { loadBalancer: 'ns/x', code: 'PoolExhausted', reason: 'r', causationSeq: seq, causationId: null },
        null,
        2,
      ),
    );
    const report = await verifyReplay(() => s.messages, codec);
    expect(report.unanswered).toEqual([]);
    // compared as text, so it diverges (the recorded text is not this build's text)
    expect(report.firstDivergence).toMatchObject({
      inputSeq: seq,
      recorded: { subject: 'ipam.lb.rejected', body: { code: 'PoolExhausted' } },
    });
  });

  it("an outcome stored before its input (a causationSeq from the future) is not that input's answer", async () => {
    const s = new StoredStream();
    s.send('ipam.pool.created', globalPool('p', '10.0.0.0/24'));
    const future = s.lastSeq + 2;
    s.store(
      'ipam.lb.rejected',
      JSON.stringify({
        loadBalancer: 'ns/x',
        code: 'PoolExhausted',
        reason: 'r',
        causationSeq: future,
        causationId: null,
      }),
    );
    expect(s.send('ipam.lb.requested', lb('ns/x')).inputSeq).toBe(future);
    const report = await verifyReplay(() => s.messages, codec);
    expect(report).toMatchObject({ inputs: 2, matched: 2, divergences: 0 });
  });
});
