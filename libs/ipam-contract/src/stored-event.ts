/**
 * A message as the stream stored it: what the audit and replay need, with no NATS types (a
 * StoredMessage of libs/jetstream's EventStore.read is one as it is).
 */
export interface StoredEvent {
  seq: number;
  subject: string;
  /** stream timestamp, ms since the epoch */
  timeMs: number;
  msgId: string | null;
  data: Uint8Array;
}
