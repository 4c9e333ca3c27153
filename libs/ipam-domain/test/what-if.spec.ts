/**
 * affectedBy (dry runs): which load balancers a pool update or delete would touch, and how, from the
 * state before it and the outcome decide gives it. Pure: the state is the same afterwards.
 */
import { decide, handle, initialState, poolView, type IpamCommand, type IpamState } from '../src/index.js';
import { affectedBy } from '../src/what-if.js';
import { lb, lbRef, pool } from './support.js';

let seq = 0;
const cmd = (type: IpamCommand['type'], data: unknown): IpamCommand =>
  ({ type, data, meta: { seq: ++seq, id: null } }) as IpamCommand;
const create = (p: unknown) => cmd('CreatePool', { pool: p });
const update = (p: unknown) => cmd('UpdatePool', { pool: p });
const remove = (name: string) => cmd('DeletePool', { body: { metadata: { name } } });
const request = (key: string, o = {}) => cmd('RequestLoadBalancer', { loadBalancer: lb(key, o) });
const release = (key: string) => cmd('DeleteLoadBalancer', { body: lbRef(key) });

/** decide, then affectedBy, checking neither changed the state. */
function dryRun(state: IpamState, command: IpamCommand) {
  const before = JSON.stringify([...state.pools.values()].map(poolView));
  const [outcome] = decide(command, state);
  const affected = affectedBy(command, outcome, state);
  expect(JSON.stringify([...state.pools.values()].map(poolView))).toBe(before);
  return { outcome, affected };
}

const scope = { scope: [{ namespace: 'ns' }] };

function twoRanges(): IpamState {
  const state = initialState();
  handle(create(pool('p', [{ subnet: '10.0.0.0/29' }, { subnet: '10.0.1.0/29' }], scope)), state);
  handle(request('ns/held', { ip: '10.0.0.2' }), state);
  handle(request('ns/gone', { ip: '10.0.1.2' }), state);
  handle(release('ns/gone'), state);
  handle(request('ns/kept', { ip: '10.0.0.3' }), state);
  handle(release('ns/kept'), state);
  return state;
}

describe('affectedBy', () => {
  it('an update dropping a range prunes the history entries in it; one excluding a history address says so', () => {
    const state = twoRanges();
    const shrink = dryRun(
      state,
      update(pool('p', [{ subnet: '10.0.0.0/29', exclude: ['10.0.0.3'] }], scope)),
    );
    expect(shrink.outcome.type).toBe('PoolAccepted');
    expect(shrink.affected).toEqual([
      { loadBalancer: 'ns/gone', ipPool: 'p', ip: '10.0.1.2', effect: 'historyPruned' },
      { loadBalancer: 'ns/kept', ipPool: 'p', ip: '10.0.0.3', effect: 'historyExcluded' },
    ]);
  });

  it('an update taking a held address away is rejected and names its holder; so is a delete of a pool in use', () => {
    const state = twoRanges();
    const taken = dryRun(state, update(pool('p', [{ subnet: '10.0.1.0/29' }], scope)));
    expect(taken.outcome).toMatchObject({ type: 'PoolRejected', data: { code: 'AllocatedOutOfRange' } });
    expect(taken.affected).toEqual([
      { loadBalancer: 'ns/held', ipPool: 'p', ip: '10.0.0.2', effect: 'blocksUpdate' },
    ]);
    const del = dryRun(state, remove('p'));
    expect(del.outcome).toMatchObject({ type: 'PoolRejected', data: { code: 'PoolInUse' } });
    expect(del.affected).toEqual([
      { loadBalancer: 'ns/held', ipPool: 'p', ip: '10.0.0.2', effect: 'blocksDelete' },
    ]);
  });

  it('a delete of a pool nobody holds drops every history entry; every sharer of a shared address blocks it', () => {
    const state = twoRanges();
    handle(release('ns/held'), state);
    expect(dryRun(state, remove('p')).affected.map((a) => [a.loadBalancer, a.effect])).toEqual(
      [
        ['ns/held', 'historyPruned'],
        ['ns/kept', 'historyPruned'],
        ['ns/gone', 'historyPruned'],
      ].sort((a, b) => (a[0] < b[0] ? -1 : 1)),
    );
    handle(request('ns/a', { sharingKey: 'k' }), state);
    handle(request('ns/b', { sharingKey: 'k' }), state);
    expect(dryRun(state, remove('p')).affected.map((a) => `${a.loadBalancer} ${a.effect}`)).toEqual([
      'ns/a blocksDelete',
      'ns/b blocksDelete',
    ]);
  });

  it('other inputs, and an update changing no address, affect nobody', () => {
    const state = twoRanges();
    expect(dryRun(state, request('ns/new')).affected).toEqual([]);
    expect(
      dryRun(
        state,
        update(pool('p', [{ subnet: '10.0.0.0/29' }, { subnet: '10.0.1.0/29' }], { ...scope, priority: 3 })),
      ).affected,
    ).toEqual([]);
  });
});
