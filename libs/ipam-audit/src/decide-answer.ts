/**
 * This build's answer to one input, exactly as the service decides it: the replay compares stored
 * outcomes with it, so the service and `ipam replay --verify` must share it.
 */
import { decide, IpamCommand, IpamEvent, IpamState } from '../../ipam-domain/src/index.js';

export function decideAnswer(
  command: IpamCommand,
  state: IpamState,
  onError?: (e: unknown) => void,
): IpamEvent {
  try {
    return decide(command, state)[0];
  } catch (e) {
    onError?.(e);
    // A bug, not bad input: answer anyway, so the input is not left without an outcome.
    const t = command.type;
    return decide(
      {
        type: 'RejectInput',
        data: {
          target:
            t.endsWith('Pool') || t === 'ImportHistory' ? 'pool' : t === 'ForceReleaseAddress' ? 'ip' : 'lb',
          name: '',
          code: 'InternalError',
          reason: `internal error while deciding this event: ${String(e)}`,
        },
        meta: command.meta,
      },
      state,
    )[0];
  }
}
