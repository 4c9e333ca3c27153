/**
 * The client's failures, each with a machine word (`code`) and a message a person can act on. No
 * message ever carries a credential: URLs in them are redacted.
 */

export type IpamClientErrorCode =
  /** the options cannot work (for example two different credentials); nothing was tried */
  | 'Config'
  /** no connection could be made (refused, unreachable, authentication failed) */
  | 'Connect'
  /** NATS or JetStream did not answer in time, or the connection dropped: the input may still have been stored */
  | 'Unavailable'
  /** no stream took the input's subject (the stream does not exist, or JetStream is off) */
  | 'NoStream'
  /** JetStream refused the input (the server's error is in the message) */
  | 'PublishRefused'
  /** nobody subscribes to the query subject: the service is not running */
  | 'NoResponders'
  /** a query got no reply in time */
  | 'Timeout'
  /** the input was stored, but no outcome arrived in time */
  | 'OutcomeTimeout'
  /** a reply or stored message that is not what the contract says */
  | 'BadReply'
  /** the client was closed */
  | 'Closed';

export class IpamClientError extends Error {
  constructor(
    readonly code: IpamClientErrorCode,
    message: string,
    /** for OutcomeTimeout: the stream sequence of the stored input */
    readonly seq?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'IpamClientError';
  }
}

export function isIpamClientError(e: unknown, code?: IpamClientErrorCode): e is IpamClientError {
  return e instanceof IpamClientError && (code === undefined || e.code === code);
}
