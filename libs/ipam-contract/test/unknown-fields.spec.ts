/**
 * The input boundary leaves unknown fields of a pool to the domain (semantics section 9): a PoolCreated
 * with fields it does not know at any level decodes to CreatePool, not to an InvalidEvent; the fields it
 * knows keep their types.
 */
import 'reflect-metadata';
import { inputCommand, IPPoolDto, validateShape } from '../src/index.js';

const meta = { seq: 1, id: 'in-1' };
const bytes = (body: unknown) => new TextEncoder().encode(JSON.stringify(body));

function harvesterTestPool(scope: unknown) {
  return {
    apiVersion: 'loadbalancer.harvesterhci.io/v1beta1',
    kind: 'IPPool',
    extra: { any: ['value'] },
    metadata: { name: 'p', labels: { a: 'b' }, owner: 7 },
    spec: {
      ranges: [{ type: 'cidr', subnet: '10.0.0.0/24' }],
      selector: { priority: 0, scope, weight: [1] },
      autoAssignment: null,
    },
    status: { total: 253 },
  };
}

describe('unknown fields at the input boundary', () => {
  it.each([
    ['a list of tuples', [{ namespace: 'default', team: 'blue', size: 3, tags: ['x'] }]],
    ['the single-tuple shorthand', { namespace: 'default', team: { name: 'blue' } }],
  ])('a pool with unknown fields everywhere, scope as %s, is a CreatePool', (_what, scope) => {
    const body = harvesterTestPool(scope);
    expect(validateShape(IPPoolDto, body)).toBeNull();
    expect(inputCommand('ipam.pool.created', bytes(body), meta, 65536)).toEqual({
      type: 'CreatePool',
      data: { pool: body },
      meta,
    });
  });

  it('a known scope field of the wrong type is still an InvalidEvent', () => {
    const body = harvesterTestPool([{ namespace: 5, team: 'blue' }]);
    expect(validateShape(IPPoolDto, body)).toMatch(/scope/);
    expect(inputCommand('ipam.pool.created', bytes(body), meta, 65536)).toMatchObject({
      type: 'RejectInput',
      data: { target: 'pool', reason: expect.stringMatching(/scope/) as unknown as string },
    });
  });
});
