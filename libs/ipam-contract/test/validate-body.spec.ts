/**
 * readBody remembers class-validator's verdict per body (per body with its free texts blanked, where a
 * DTO declares them): the same answers as validating every body, never a shared value.
 */
import 'reflect-metadata';
import { Transform, Type } from 'class-transformer';
import { IsIn, IsNotEmpty, IsObject, IsOptional, IsString, Matches, ValidateNested } from 'class-validator';
import fc from 'fast-check';
import {
  checkShape,
  declareFreeText,
  inputCommand,
  judged,
  MAX_BODY_DEPTH,
  nestedDeeperThan,
  readBody,
  TOO_DEEP_REASON,
  validateShape,
} from '../src/index.js';
import {
  IPPoolDto,
  LoadBalancerDto,
  LoadBalancerRefDto,
  PoolRefDto,
  ReleaseAddressDto,
} from '../src/index.js';

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

  /** readBody's answer is class-validator's on the same value (a fresh one). */
  function agrees(value: unknown, dto: new () => object): void {
    const got = readBody(enc.encode(JSON.stringify(value)), 65536, dto);
    const problem = validateShape(dto, JSON.parse(JSON.stringify(value)) as Record<string, unknown>);
    expect(got).toEqual(
      problem === null
        ? { ok: true, value: JSON.parse(JSON.stringify(value)) }
        : { ok: false, reason: problem },
    );
  }

  it('answers as class-validator does for every body, though bodies that differ only in free texts share a verdict', () => {
    const text = fc.oneof(
      fc.constant(''),
      fc.constant('-'),
      fc.string({ maxLength: 6 }),
      fc.constantFrom('default', 'lb-1', ' ', 'vm'),
    );
    const scalar = fc.oneof(text, fc.integer({ min: -2, max: 3 }), fc.constant(null), fc.boolean());
    const field = fc.option(scalar, { nil: undefined });
    const object = (keys: Record<string, fc.Arbitrary<unknown>>) =>
      fc.record(keys, { requiredKeys: [] }) as fc.Arbitrary<Record<string, unknown>>;
    const metadata = fc.oneof(
      object({
        namespace: field,
        name: field,
        annotations: fc.option(fc.oneof(fc.dictionary(text, scalar, { maxKeys: 2 }), scalar)),
        extra: field,
      }),
      scalar,
      fc.constant([]),
    );
    const spec = fc.oneof(
      object({
        workloadType: fc.option(fc.oneof(fc.constantFrom('vm', 'cluster', '', 'x'), scalar)),
        ipPool: field,
        ip: field,
      }),
      scalar,
    );
    const body = fc.oneof(object({ metadata, spec, status: field }), object({ ip: field, ipPool: field }));
    const dtos: Array<new () => object> = [
      LoadBalancerDto,
      LoadBalancerRefDto,
      PoolRefDto,
      ReleaseAddressDto,
    ];
    fc.assert(fc.property(body, fc.constantFrom(...dtos), agrees), { numRuns: 3000 });
    // pools from a small space, so that bodies alike but for one field meet often
    const small = <T>(...values: T[]) => fc.constantFrom(...values);
    const pool = object({
      apiVersion: small<unknown>('v1', '', 2),
      kind: small<unknown>('IPPool', 3),
      metadata: fc.oneof(object({ name: small<unknown>('p', 'q', '', 7) }), small<unknown>('x')),
      spec: fc.oneof(
        object({
          description: small<unknown>('a', 'b', '', 1),
          ranges: small<unknown>([{ subnet: '10.0.0.0/24' }], [{ subnet: '' }], 'x'),
          selector: fc.oneof(
            object({
              priority: small<unknown>(-1, 0, 2, 1.5, 'x'),
              network: small<unknown>('n', 1),
              scope: small<unknown>({ namespace: 'a' }, [{ namespace: 1 }]),
            }),
            small<unknown>('x'),
          ),
        }),
        small<unknown>('x'),
      ),
    });
    fc.assert(
      fc.property(pool, (value) => agrees(value, IPPoolDto)),
      { numRuns: 3000 },
    );
  });

  it('keys a body with a number JSON makes infinite by its text: 1e999 is no null', () => {
    const cases: Array<[new () => object, string, string]> = [
      [
        LoadBalancerDto,
        '{"metadata":{"namespace":null,"name":"a"}}',
        '{"metadata":{"namespace":1e999,"name":"a"}}',
      ],
      [
        IPPoolDto,
        '{"metadata":{"name":"p"},"spec":{"ranges":[{"subnet":"10.0.0.0/24"}],"selector":{"priority":null}}}',
        `{"metadata":{"name":"p"},"spec":{"ranges":[{"subnet":"10.0.0.0/24"}],"selector":{"priority":1${'0'.repeat(320)}}}}`,
      ],
    ];
    for (const [dto, first, second] of cases) {
      for (const text of [first, second]) {
        const problem = validateShape(dto, JSON.parse(text) as Record<string, unknown>);
        const got = readBody(enc.encode(text), 65536, dto);
        expect(got.ok ? null : got.reason).toBe(problem);
      }
    }
  });

  it('refuses a free-text path whose validators read the text, or that class-transformer changes', () => {
    class Inner {
      @IsString()
      @IsNotEmpty()
      plain!: string;

      @IsString()
      @Matches(/^[a-z]+$/)
      pattern!: string;

      @IsOptional()
      @IsIn(['a', 'b'])
      choice?: string;

      @IsString()
      @IsNotEmpty({ message: 'got $value' })
      quoted!: string;

      @IsString()
      @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
      trimmed!: string;

      unchecked?: string;
    }
    class Outer {
      @IsObject()
      @ValidateNested()
      @Type(() => Inner)
      inner!: Inner;

      @IsString()
      flat!: string;
    }
    expect(() => declareFreeText(Outer, [['inner', 'plain'], ['flat']])).not.toThrow();
    expect(() => declareFreeText(Outer, [['inner', 'pattern']])).toThrow(
      'Outer: free-text path inner.pattern: its validator matches may read the text',
    );
    expect(() => declareFreeText(Outer, [['inner', 'choice']])).toThrow(/inner\.choice: its validator isIn/);
    expect(() => declareFreeText(Outer, [['inner', 'quoted']])).toThrow(
      /inner\.quoted: its validator isNotEmpty/,
    );
    expect(() => declareFreeText(Outer, [['inner', 'trimmed']])).toThrow(
      /inner\.trimmed: class-transformer does not hand the text over as it is/,
    );
    expect(() => declareFreeText(Outer, [['inner', 'unchecked']])).toThrow(
      /no validator names this property/,
    );
    expect(() => declareFreeText(Outer, [['flat', 'deeper']])).toThrow(
      'Outer: free-text path flat.deeper: flat is not a nested DTO',
    );
    expect(() => declareFreeText(Outer, [[]])).toThrow(/is empty/);
  });

  it('judges a body with new free texts once: other load balancers of the same shape reuse its verdict', () => {
    const before = judged();
    for (let i = 0; i < 500; i++) {
      const body = { metadata: { namespace: `ns-${i}`, name: `lb-${i}` }, spec: { ipPool: 'judged-once' } };
      expect(readBody(enc.encode(JSON.stringify(body)), 65536, LoadBalancerDto)).toEqual({
        ok: true,
        value: body,
      });
    }
    expect(judged() - before).toBe(1);
    // an empty name is another shape (and another verdict)
    const empty = readBody(
      enc.encode('{"metadata":{"namespace":"a","name":""},"spec":{"ipPool":"judged-once"}}'),
      65536,
      LoadBalancerDto,
    );
    expect(empty.ok ? '' : empty.reason).toContain('metadata.name should not be empty');
    expect(judged() - before).toBe(2);
  });
});

describe('checkShape (a body parsed elsewhere, as the HTTP API has it)', () => {
  it('answers as validateShape does, judging a body of a shape seen before only once', () => {
    const before = judged();
    for (let i = 0; i < 300; i++) {
      const body = {
        metadata: { namespace: `http-${i}`, name: `lb-${i}` },
        spec: { ipPool: 'checked-once' },
      };
      expect(checkShape(LoadBalancerDto, body)).toBeNull();
    }
    expect(judged() - before).toBe(1);
    const wrong = { metadata: { namespace: 'a', name: 7 }, spec: { ipPool: 'checked-once' } };
    expect(checkShape(LoadBalancerDto, wrong)).toBe(validateShape(LoadBalancerDto, wrong));
    expect(checkShape(LoadBalancerDto, wrong)).toContain('metadata.name must be a string');
  });

  it('judges afresh a value JSON.stringify cannot tell from null (Infinity, NaN)', () => {
    const withNull = { metadata: { namespace: 'a', name: 'b' }, spec: { ipPool: 'p', ipFamilies: null } };
    const withInfinity = {
      metadata: { namespace: 'a', name: 'b' },
      spec: { ipPool: 'p', ipFamilies: Infinity },
    };
    const a = checkShape(LoadBalancerDto, withNull as Record<string, unknown>);
    const before = judged();
    const b = checkShape(LoadBalancerDto, withInfinity as Record<string, unknown>);
    expect(judged() - before).toBe(1);
    expect(b).toBe(validateShape(LoadBalancerDto, withInfinity as Record<string, unknown>));
    expect(a).toBe(validateShape(LoadBalancerDto, withNull as Record<string, unknown>));
  });
});

describe('nesting', () => {
  const nested = (levels: number): unknown => {
    let v: unknown = 'x';
    for (let i = 0; i < levels; i++) v = i % 2 === 0 ? [v] : { k: v };
    return v;
  };
  const lb = (extra: unknown) => ({ metadata: { namespace: 'deep', name: 'lb' }, extra });

  it('counts the body as level 1 and each object or array inside as one more', () => {
    expect(nestedDeeperThan({}, 1)).toBe(false);
    expect(nestedDeeperThan({ a: [] }, 1)).toBe(true);
    expect(nestedDeeperThan({ a: 1, b: 'text' }, 1)).toBe(false);
    expect(nestedDeeperThan(lb(nested(63)), 64)).toBe(false);
    expect(nestedDeeperThan(lb(nested(64)), 64)).toBe(true);
    expect(nestedDeeperThan('text', 0)).toBe(false);
  });

  it(`refuses a body deeper than ${MAX_BODY_DEPTH} levels before class-validator sees it`, () => {
    const before = judged();
    const r = readBody(enc.encode(JSON.stringify(lb(nested(64)))), 65536, LoadBalancerDto);
    expect(r).toEqual({ ok: false, reason: TOO_DEEP_REASON });
    expect(judged()).toBe(before);
    expect(readBody(enc.encode(JSON.stringify(lb(nested(63)))), 65536, LoadBalancerDto).ok).toBe(true);
  });

  it('answers 1,500 nested arrays in a 3 KB body with a reason, where class-validator overflowed the stack', () => {
    const text = `{"metadata":{"namespace":"a","name":"b"},"spec":{"ip":${'['.repeat(1500)}${']'.repeat(1500)}}}`;
    expect(readBody(enc.encode(text), 65536, LoadBalancerDto)).toEqual({
      ok: false,
      reason: TOO_DEEP_REASON,
    });
    expect(validateShape(LoadBalancerDto, JSON.parse(text))).toBe(TOO_DEEP_REASON);
    const objects = `{"metadata":{"namespace":"a","name":"b"},"spec":{"ip":${'{"a":'.repeat(1500)}1${'}'.repeat(1500)}}}`;
    expect(validateShape(LoadBalancerDto, JSON.parse(objects))).toBe(TOO_DEEP_REASON);
  });

  it('gives every input with a body that cannot be decoded an outcome, never an exception', () => {
    const text = `{"metadata":{"namespace":"a","name":"b"},"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const c = inputCommand('ipam.lb.requested', enc.encode(text), { seq: 9, id: null }, 1 << 20);
    expect(c).toMatchObject({ type: 'RejectInput', data: { target: 'lb', name: 'a/b' } });
    expect(c.type === 'RejectInput' && c.data.reason).toMatch(/^ipam\.lb\.requested: the body /);
  });
});
