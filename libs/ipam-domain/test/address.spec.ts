/**
 * The address codec (address.ts) against ipaddr.js, property-based.
 */
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import {
  AddressSyntaxError,
  canonicalText,
  commonPrefix,
  decodeAddress,
  formatAddress,
  formatCidr,
  formatMask,
  parseAddress,
  parseCidr,
  V4_BASE,
} from '../src/index.js';

const RUNS = { numRuns: 300 };

const v4Value = fc.nat({ max: 2 ** 32 - 1 });
/** 8 groups, biased towards zero groups so that "::" compression is exercised. */
const v6Parts = fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff })), {
  minLength: 8,
  maxLength: 8,
});

function v4Bytes(n: number): number[] {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}

function v6Key(parts: number[]): bigint {
  return parts.reduce((acc, p) => (acc << 16n) | BigInt(p), 0n);
}

function outcome(f: () => bigint): bigint | 'error' {
  try {
    return f();
  } catch (e) {
    if (e instanceof AddressSyntaxError) return 'error';
    throw e;
  }
}

describe('address codec', () => {
  it('IPv4: formatAddress writes what ipaddr.js writes, and decodeAddress / parseAddress read it back', () => {
    fc.assert(
      fc.property(v4Value, (n) => {
        const key = V4_BASE + BigInt(n);
        const text = ipaddr.fromByteArray(v4Bytes(n)).toString();
        expect(formatAddress(key)).toBe(text);
        expect(decodeAddress(text)).toBe(key);
        expect(parseAddress(text)).toBe(key);
      }),
      RUNS,
    );
  });

  it('IPv6: formatAddress writes the RFC 5952 text of ipaddr.js; decodeAddress reads any spelling back', () => {
    fc.assert(
      fc.property(v6Parts, (parts) => {
        const key = v6Key(parts);
        const addr = new ipaddr.IPv6(parts);
        const text = formatAddress(key);
        expect(text).toBe(addr.toRFC5952String());
        if (addr.isIPv4MappedAddress()) {
          // IPv4-mapped addresses are refused on input (section 2)
          expect(outcome(() => decodeAddress(text))).toBe('error');
        } else {
          expect(decodeAddress(text)).toBe(key);
          expect(decodeAddress(addr.toNormalizedString())).toBe(key);
          expect(decodeAddress(parts.map((p) => p.toString(16).padStart(4, '0')).join(':'))).toBe(key);
          expect(decodeAddress(text.toUpperCase())).toBe(key);
        }
      }),
      RUNS,
    );
  });

  it('decodeAddress accepts exactly what parseAddress accepts, with the same value', () => {
    const noisy = fc.string({
      unit: fc.constantFrom('0', '1', '2', '5', '9', '.', ':', 'a', 'f', 'x', '%', ' '),
      maxLength: 18,
    });
    const nearlyV4 = fc
      .tuple(
        fc.array(
          fc.oneof(fc.nat({ max: 300 }).map(String), fc.constantFrom('', '00', '01', '007', '0x1', '-1')),
          { minLength: 1, maxLength: 6 },
        ),
      )
      .map(([parts]) => parts.join('.'));
    fc.assert(
      fc.property(fc.oneof(noisy, nearlyV4), (text) => {
        expect(outcome(() => decodeAddress(text))).toEqual(outcome(() => parseAddress(text)));
      }),
      { numRuns: 1000 },
    );
  });

  it('parseAddress takes only dotted decimal IPv4 (ipaddr.js four-part decimal)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.nat({ max: 999 }).map(String), fc.constantFrom('00', '012', '0x10')), {
          minLength: 4,
          maxLength: 4,
        }),
        (parts) => {
          const text = parts.join('.');
          const valid = ipaddr.IPv4.isValidFourPartDecimal(text);
          expect(outcome(() => parseAddress(text)) !== 'error').toBe(valid);
        },
      ),
      RUNS,
    );
  });

  it('rejects zoned, IPv4-mapped and non-address text', () => {
    for (const text of [
      'fe80::1%eth0',
      '::ffff:10.0.0.1',
      '::ffff:a00:1',
      '10.0.0.1%eth0',
      '',
      '1.2.3',
      '1.2.3.4.5',
      '0x7f.0.0.1',
      '127.1',
      'fd00::g',
    ]) {
      expect(outcome(() => parseAddress(text))).toBe('error');
      expect(outcome(() => decodeAddress(text))).toBe('error');
    }
  });

  it('parseCidr masks host bits like ipaddr.js, for both families', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc
            .tuple(v4Value, fc.integer({ min: 0, max: 32 }))
            .map(([n, len]) => `${ipaddr.fromByteArray(v4Bytes(n)).toString()}/${len}`),
          fc
            .tuple(v6Parts, fc.integer({ min: 0, max: 128 }))
            .filter(([p]) => !new ipaddr.IPv6(p).isIPv4MappedAddress())
            .map(([p, len]) => `${new ipaddr.IPv6(p).toString()}/${len}`),
        ),
        (text) => {
          const c = parseCidr(text);
          const [addr, len] = ipaddr.parseCIDR(text);
          const isV4 = addr.kind() === 'ipv4';
          const net = isV4
            ? ipaddr.IPv4.networkAddressFromCIDR(text)
            : ipaddr.IPv6.networkAddressFromCIDR(text);
          const last = isV4
            ? ipaddr.IPv4.broadcastAddressFromCIDR(text)
            : ipaddr.IPv6.broadcastAddressFromCIDR(text);
          expect(c.prefixLength).toBe(len);
          expect(c.family).toBe(isV4 ? 4 : 6);
          expect(formatAddress(c.network)).toBe(net.toString());
          expect(formatAddress(c.last)).toBe(last.toString());
          expect(formatCidr(c)).toBe(`${net.toString()}/${len}`);
          const mask = isV4
            ? ipaddr.IPv4.subnetMaskFromPrefixLength(len)
            : ipaddr.IPv6.subnetMaskFromPrefixLength(len);
          expect(formatMask(c.family, len)).toBe(mask.toString());
        },
      ),
      RUNS,
    );
  });

  it('commonPrefix is the smallest CIDR holding both addresses', () => {
    fc.assert(
      fc.property(v4Value, v4Value, (x, y) => {
        const a = V4_BASE + BigInt(x);
        const b = V4_BASE + BigInt(y);
        const c = commonPrefix(a, b);
        expect(c.network <= a && a <= c.last && c.network <= b && b <= c.last).toBe(true);
        if (c.prefixLength < 32) {
          // one bit longer would split them
          const half = (c.last - c.network + 1n) / 2n;
          expect(a < c.network + half).not.toBe(b < c.network + half);
        } else {
          expect(a).toBe(b);
        }
      }),
      RUNS,
    );
  });

  it('rejects bad CIDRs', () => {
    for (const text of [
      '10.0.0.0',
      '10.0.0.0/33',
      '10.0.0.0/-1',
      '10.0.0.0/08',
      'fd00::/129',
      '10.0.0.0/',
      '/24',
      '10.0.0.0/24/1',
    ]) {
      expect(() => parseCidr(text)).toThrow(AddressSyntaxError);
    }
  });
});

describe('canonicalText (the fold keys maps by canonical address text)', () => {
  const v6 = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });
  /** every way to write an address: full groups with leading zeros, and "::" at every zero run */
  const spellings = (key: bigint): string[] => {
    const parts = key.toString(16).padStart(32, '0').match(/.{4}/g)!;
    const out = [parts.join(':'), parts.map((p) => p.replace(/^0+(?=.)/, '')).join(':')];
    const short = parts.map((p) => p.replace(/^0+(?=.)/, ''));
    for (let i = 0; i < 8; i++) {
      for (let j = i + 1; j <= 8; j++) {
        if (short.slice(i, j).every((g) => g === '0'))
          out.push(`${short.slice(0, i).join(':')}::${short.slice(j).join(':')}`);
      }
    }
    return out;
  };

  it('is the text itself exactly when the text is what formatAddress writes', () => {
    fc.assert(
      fc.property(fc.oneof(v6, fc.constantFrom(0n, 1n, 1n << 64n, (1n << 16n) | (1n << 96n))), (key) => {
        if (key >> 32n === 0xffffn) return; // IPv4-mapped: refused by the parser
        const canonical = formatAddress(key);
        for (const text of spellings(key)) {
          expect(decodeAddress(text)).toBe(key);
          expect(canonicalText(text, key)).toBe(canonical);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('accepts any valid IPv4 text as it is', () => {
    expect(canonicalText('10.0.0.7', decodeAddress('10.0.0.7'))).toBe('10.0.0.7');
  });
});

describe('formatAddress then decodeAddress (the one-entry memo between them)', () => {
  it('still refuses IPv4-mapped text that formatAddress just wrote', () => {
    for (const key of [0xffffn << 32n, (0xffffn << 32n) | 0x0a000001n]) {
      const text = formatAddress(key);
      expect(() => decodeAddress(text)).toThrow(AddressSyntaxError);
    }
  });
});
