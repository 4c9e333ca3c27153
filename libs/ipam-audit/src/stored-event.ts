/** A message as the stream stored it: what the audit and replay need, with no NATS types. */
export interface StoredEvent {
  seq: number;
  subject: string;
  /** stream timestamp, ms since the epoch */
  time: number;
  msgId: string | null;
  data: Uint8Array;
}
