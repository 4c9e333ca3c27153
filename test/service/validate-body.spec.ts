/** readBody remembers class-validator's verdict per body text: the same answers, never a shared value. */
import 'reflect-metadata';
import { readBody } from '../../apps/ipam/src/dto/validate-body.js';
import { LoadBalancerDto } from '../../apps/ipam/src/dto/input.dto.js';

const enc = new TextEncoder();

describe('readBody', () => {
  it('gives the same verdict for a repeated body, and a fresh value each time', () => {
    const body = enc.encode(JSON.stringify({ metadata: { namespace: 'default', name: 'a' } }));
    const first = readBody(body, 65536, LoadBalancerDto);
    const second = readBody(body, 65536, LoadBalancerDto);
    expect(first).toEqual({ ok: true, value: { metadata: { namespace: 'default', name: 'a' } } });
    expect(second).toEqual(first);
    if (!first.ok || !second.ok) throw new Error('unreachable');
    expect(second.value).not.toBe(first.value);
    (first.value.metadata as { name: string }).name = 'changed';
    expect((second.value.metadata as { name: string }).name).toBe('a');
  });

  it('gives the same reason for a repeated invalid body', () => {
    const body = enc.encode(JSON.stringify({ metadata: { namespace: 'default' } }));
    const first = readBody(body, 65536, LoadBalancerDto);
    expect(first.ok).toBe(false);
    expect(readBody(body, 65536, LoadBalancerDto)).toEqual(first);
    expect(first.ok ? '' : first.reason).toContain('metadata.name');
  });

  it('judges a large body every time, and each body on its own', () => {
    const big = (name: unknown) =>
      enc.encode(JSON.stringify({ metadata: { namespace: 'default', name }, pad: 'x'.repeat(2000) }));
    expect(readBody(big('a'), 65536, LoadBalancerDto).ok).toBe(true);
    expect(readBody(big(7), 65536, LoadBalancerDto).ok).toBe(false);
    for (let i = 0; i < 3000; i++) {
      const ok = readBody(
        enc.encode(JSON.stringify({ metadata: { namespace: 'n', name: `lb-${i}` } })),
        65536,
        LoadBalancerDto,
      );
      expect(ok.ok).toBe(true);
    }
  });
});
