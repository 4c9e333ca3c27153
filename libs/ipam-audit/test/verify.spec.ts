/**
 * verifyReplay with the service's codec over synthetic stored streams: a clean mixed stream verifies;
 * a forged outcome is refused and reported while its input's true answer still counts; an input whose
 * stored outcomes are all refused is a divergence (with both bodies); an input with no outcome is
 * unanswered; inputs that cannot be read verify like any other.
 */
import { globalPool, lb, pool } from '../../ipam-domain/test/support.js';
import type { StoredEvent } from '../../ipam-contract/src/index.js';
import { createVerifier, verifyReplay } from '../src/index.js';
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
      refused: 0,
      firstRefused: null,
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

describe('forged outcomes are refused and the verification goes on', () => {
  it('given a forged allocation stored right before the true one, then it is refused and every input matches', async () => {
    const s = new StoredStream();
    s.send('ipam.pool.created', globalPool('p', '10.0.0.0/24'));
    const x = s.input('ipam.lb.requested', lb('ns/x'), {
      forge: (e) => (e.type === 'IPAllocated' ? { ...e, data: { ...e.data, ip: '10.0.0.200' } } : e),
    });
    s.input('ipam.lb.requested', lb('ns/y'));
    s.input('ipam.lb.requested', lb('ns/z', { ip: '10.0.0.200' }));
    const [xHeld, yHeld, zHeld] = s.flush();
    expect([xHeld.event.data, yHeld.event.data, zHeld.event.data]).toMatchObject([
      { ip: '10.0.0.2' },
      { ip: '10.0.0.3' },
      { ip: '10.0.0.200' },
    ]);
    const report = await verifyReplay(() => s.messages, codec);
    expect(report).toMatchObject({ inputs: 4, matched: 4, divergences: 0, unanswered: [], refused: 1 });
    expect(report.firstRefused).toEqual({
      seq: xHeld.message.seq - 1,
      subject: 'ipam.ip.allocated',
      body: { ...xHeld.event.data, ip: '10.0.0.200' },
      reason: 'differs',
      inputSeq: x,
      decided: { subject: 'ipam.ip.allocated', body: xHeld.event.data },
    });
  });

  it('the attack of issue 11: a forged ipam.pool.accepted of an overlapping pool is not in the folded state', async () => {
    const s = new StoredStream();
    s.send('ipam.pool.created', globalPool('a', '10.80.0.0/24'));
    const overlapping = s.send(
      'ipam.pool.created',
      pool('b', '10.80.0.0/25', { scope: [{ namespace: 'b' }] }),
      {
        forge: (e) => ({
          type: 'PoolAccepted',
          data: {
            name: 'b',
            change: 'created',
            causationSeq: e.data.causationSeq,
            causationId: e.data.causationId,
          },
        }),
      },
    );
    expect(overlapping.message.subject).toBe('ipam.pool.rejected');
    s.send('ipam.lb.requested', lb('b/first'));
    const verifier = createVerifier(codec);
    for (const m of s.messages) verifier.push(m);
    const report = verifier.finish();
    expect(report).toMatchObject({ inputs: 3, matched: 3, divergences: 0, refused: 1 });
    expect(report.firstRefused).toMatchObject({
      subject: 'ipam.pool.accepted',
      inputSeq: overlapping.inputSeq,
    });
    expect([...verifier.state.pools.keys()]).toEqual(['a']);
  });
});

describe('divergences: inputs whose stored outcomes this build all refuses', () => {
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
    expect(report.firstRefused).toMatchObject({ seq: message.seq, reason: 'differs', inputSeq });
    expect(report.divergences).toBeGreaterThanOrEqual(1);
    expect(report.matched + report.divergences).toBe(3000);
    expect(report.unanswered).toEqual([]);
  });

  it('another build answered on another subject (a rejection where this build allocates), and nothing else did', async () => {
    const s = new StoredStream();
    s.send('ipam.pool.created', globalPool('p', '10.0.0.0/24'));
    const seq = s.input('ipam.lb.requested', lb('ns/x'), {
      answer: false,
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
    expect(report).toMatchObject({ inputs: 2, matched: 1, divergences: 1, unanswered: [], refused: 1 });
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
      refused: 0,
      firstRefused: null,
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
    expect(report).toEqual({
      inputs: 6,
      matched: 6,
      unanswered: [],
      firstDivergence: null,
      divergences: 0,
      refused: 0,
      firstRefused: null,
    });
  });
});

describe('outcomes that answer nothing are refused and change nothing', () => {
  it('a later allocation for an answered input is stale', async () => {
    const s = new StoredStream();
    s.send('ipam.pool.created', globalPool('p', '10.0.0.0/24'));
    const x = s.send('ipam.lb.requested', lb('ns/x'));
    const late = s.store('ipam.ip.allocated', JSON.stringify({ ...x.event.data, ip: '10.0.0.99' }), 'late');
    s.send('ipam.lb.requested', lb('ns/y'));
    const report = await verifyReplay(() => s.messages, codec);
    expect(report).toMatchObject({ inputs: 3, matched: 3, divergences: 0, refused: 1 });
    expect(report.firstRefused).toMatchObject({
      seq: late.seq,
      reason: 'stale',
      inputSeq: null,
      decided: null,
    });
  });

  it('an outcome that is not JSON is unreadable; the answer after it counts', async () => {
    const s = new StoredStream();
    s.send('ipam.pool.created', globalPool('p', '10.0.0.0/24'));
    const seq = s.input('ipam.lb.requested', lb('ns/x'));
    const broken = s.store('ipam.ip.allocated', `{"causationSeq":${seq},"ip":`, 'broken');
    s.flush();
    const report = await verifyReplay(() => s.messages, codec);
    expect(report).toMatchObject({
      inputs: 2,
      matched: 2,
      divergences: 0,
      firstDivergence: null,
      refused: 1,
    });
    expect(report.firstRefused).toMatchObject({
      seq: broken.seq,
      reason: 'unreadable',
      body: `{"causationSeq":${seq},"ip":`,
    });
  });

  it('an outcome with other JSON spacing is not this build text: refused, and its input diverges', async () => {
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
    expect(report.firstDivergence).toMatchObject({
      inputSeq: seq,
      recorded: { subject: 'ipam.lb.rejected', body: { code: 'PoolExhausted' } },
    });
  });

  it("an outcome stored before its input (a causationSeq from the future) is stale, not that input's answer", async () => {
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
    expect(report).toMatchObject({ inputs: 2, matched: 2, divergences: 0, refused: 1 });
    expect(report.firstRefused).toMatchObject({ reason: 'stale' });
  });
});
