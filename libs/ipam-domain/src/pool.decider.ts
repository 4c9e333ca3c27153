/**
 * The pool aggregate in the Decider shape: {decide, evolve, initialState}, and the fold of a log.
 */
import { decide } from './pool.decide.js';
import { evolve } from './pool.evolve.js';
import type { IpamCommand } from './pool.commands.js';
import type { IpamEvent } from './pool.events.js';
import { initialState, IpamState } from './pool.state.js';

export interface Decider<C, E, S> {
  decide(command: C, state: S): E[];
  evolve(state: S, event: E): S;
  initialState(): S;
}

export const ipamDecider: Decider<IpamCommand, IpamEvent, IpamState> = { decide, evolve, initialState };

export function fold(events: Iterable<IpamEvent>, state: IpamState = initialState()): IpamState {
  let s = state;
  if (Array.isArray(events)) {
    // indexed: a long fold otherwise makes an iterator result per event
    const list = events as readonly IpamEvent[];
    for (let i = 0; i < list.length; i++) s = evolve(s, list[i]);
  } else {
    for (const e of events) s = evolve(s, e);
  }
  return s;
}

/** Decides a command and applies its events: the service's step, and the tests' "when". */
export function handle(command: IpamCommand, state: IpamState): IpamEvent[] {
  const events = decide(command, state);
  for (const e of events) evolve(state, e);
  return events;
}
