/**
 * The JSON Schemas of the wire (generated from the contract's decorated classes) describe what the
 * service actually reads and writes: every input and outcome of a mixed stream decided by the domain
 * matches its subject's schema, and a body missing a required field does not.
 */
import 'reflect-metadata';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import {
  INPUT_SCHEMAS,
  INPUT_SUBJECTS,
  OUTCOME_SCHEMAS,
  OUTCOME_SUBJECTS,
  QUERY_SCHEMAS,
  QUERY_SUBJECTS,
  SCHEMAS,
} from '../src/index.js';
import { bodyOf, codec, mixedStream } from '../../ipam-audit/test/stream.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

function compiled() {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: 'contract', components: { schemas: SCHEMAS } });
  return (name: string) => {
    const v = ajv.getSchema(`contract#/components/schemas/${name}`);
    if (!v) throw new Error(`no schema ${name}`);
    return v;
  };
}

describe('the JSON Schemas of the wire', () => {
  const schema = compiled();

  it('name a schema for every input, outcome and query subject, and every such schema exists', () => {
    expect(Object.keys(INPUT_SCHEMAS).sort()).toEqual(Object.keys(INPUT_SUBJECTS).sort());
    expect(Object.keys(OUTCOME_SCHEMAS).sort()).toEqual(Object.values(OUTCOME_SUBJECTS).sort());
    expect(Object.keys(QUERY_SCHEMAS).sort()).toEqual(Object.values(QUERY_SUBJECTS).sort());
    const named = [
      ...Object.values(INPUT_SCHEMAS),
      ...Object.values(OUTCOME_SCHEMAS),
      ...Object.values(QUERY_SCHEMAS).flatMap((q) => [q.request, q.reply]),
      'QueryError',
    ];
    for (const name of named) expect(SCHEMAS[name]).toBeDefined();
  });

  it('compile, references included', () => {
    for (const name of Object.keys(SCHEMAS)) expect(typeof schema(name)).toBe('function');
  });

  it('accept every input the service reads as valid and every outcome it decided, in a mixed stream', () => {
    const stream = mixedStream(3000, 7);
    const seen = new Set<string>();
    for (const m of stream.messages) {
      const name =
        (INPUT_SCHEMAS as Record<string, string>)[m.subject] ??
        (OUTCOME_SCHEMAS as Record<string, string>)[m.subject];
      if (name === undefined) continue;
      // the stream holds bad inputs too: those the service answers with InvalidEvent are no contract body
      if (codec.toCommand(m)?.type === 'RejectInput') continue;
      const body = bodyOf(m);
      const validate = schema(name);
      if (!validate(body))
        throw new Error(`${m.subject} ${JSON.stringify(body)}: ${JSON.stringify(validate.errors)}`);
      seen.add(m.subject);
    }
    expect([...seen].sort()).toEqual([...Object.keys(INPUT_SCHEMAS), ...Object.keys(OUTCOME_SCHEMAS)].sort());
  });

  it('reject an allocation without its address, and a gateway that is neither text nor null', () => {
    const validate = schema('IPAllocated');
    const good = {
      loadBalancer: 'default/web',
      ipPool: 'p',
      ip: '10.0.0.2',
      mask: '255.255.255.0',
      prefixLength: 24,
      gateway: null,
      fromHistory: false,
      causationSeq: 3,
      causationId: null,
    };
    expect(validate(good)).toBe(true);
    const { ip: _ip, ...noIp } = good;
    expect(validate(noIp)).toBe(false);
    expect(validate({ ...good, gateway: 7 })).toBe(false);
    const { gateway: _g, ...noGateway } = good;
    expect(validate(noGateway)).toBe(false);
  });

  it('read a pool scope as a list of tuples or one tuple, with cluster as another spelling', () => {
    const validate = schema('IPPool');
    const pool = (scope: unknown) => ({
      metadata: { name: 'p' },
      spec: { ranges: [{ subnet: '10.0.0.0/24' }], selector: { scope } },
    });
    expect(validate(pool([{ namespace: 'default' }]))).toBe(true);
    expect(validate(pool({ project: 'a', cluster: 'rke2' }))).toBe(true);
    expect(validate(pool('default'))).toBe(false);
  });
});
