/**
 * Who asked: an input's actor (its metadata.actor, read by the codec into the command's meta) is
 * repeated on its outcome, whatever the outcome; an input that names no one gets an outcome without
 * the field, byte for byte what it was before actors existed.
 */
import { decide, evolve, initialState, type IpamCommand, type IpamEvent } from '../src/index.js';
import { Commands, globalPool } from './support.js';

function by(actor: string | undefined, c: IpamCommand): IpamCommand {
  return actor === undefined ? c : { ...c, meta: { ...c.meta, actor } };
}

function run(commands: IpamCommand[]): IpamEvent[] {
  const state = initialState();
  return commands.map((c) => {
    const [e] = decide(c, state);
    evolve(state, e);
    return e;
  });
}

describe('the actor of an input', () => {
  const cmd = new Commands();
  const events = run([
    by('admin-bot', cmd.createPool(globalPool('p', '10.0.0.0/24'))),
    by('operator-bot', cmd.request('default/web')),
    by('alice', cmd.request('default/web', { ip: '10.0.0.9' })),
    by('operator-bot', cmd.release('default/web')),
    by('bob', cmd.release('default/nobody')),
    by('admin-bot', cmd.forceRelease('10.0.0.77')),
    cmd.request('default/api'),
  ]);

  it('is repeated on every kind of outcome, accepted or rejected', () => {
    expect(events.map((e) => [e.type, e.data.actor])).toEqual([
      ['PoolAccepted', 'admin-bot'],
      ['IPAllocated', 'operator-bot'],
      ['IPAllocated', 'alice'],
      ['IPReleased', 'operator-bot'],
      ['LBRejected', 'bob'],
      ['AddressRejected', 'admin-bot'],
      ['IPAllocated', undefined],
    ]);
  });

  it('changes nothing else: without one, the outcome text is what it always was', () => {
    const allocated = events[6];
    expect(JSON.stringify(allocated.data)).toBe(
      '{"loadBalancer":"default/api","ipPool":"p","ip":"10.0.0.3","mask":"255.255.255.0","prefixLength":24,' +
        '"gateway":"10.0.0.1","fromHistory":false,"causationSeq":7,"causationId":"msg-7"}',
    );
    expect(Object.keys(events[1].data).slice(-3)).toEqual(['causationSeq', 'causationId', 'actor']);
  });
});
