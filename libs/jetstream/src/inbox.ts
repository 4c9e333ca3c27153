/**
 * Inboxes under the connection's own prefix. A client connected with `inboxPrefix` (a user whose
 * permissions let it subscribe only to `_INBOX_<user>.>`, see deploy/nats/) must receive every reply
 * and every consumer delivery there; `createInbox()` alone would use `_INBOX`.
 */
import { createInbox, type NatsConnection } from '@nats-io/transport-node';

/** The `inboxPrefix` the connection was made with, or undefined (the client's default, `_INBOX`). */
export function inboxPrefixOf(nc: NatsConnection): string | undefined {
  const prefix = (nc as unknown as { options?: { inboxPrefix?: unknown } }).options?.inboxPrefix;
  return typeof prefix === 'string' && prefix !== '' ? prefix : undefined;
}

/** A new inbox subject under the connection's inbox prefix: `<prefix>.<nuid>`. */
export function connectionInbox(nc: NatsConnection): string {
  return createInbox(inboxPrefixOf(nc));
}
