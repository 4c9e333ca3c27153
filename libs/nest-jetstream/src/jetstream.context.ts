import { BaseRpcContext } from '@nestjs/microservices';
import type { MsgHdrs } from '@nats-io/transport-node';

export interface JetStreamMessageInfo {
  stream: string;
  seq: number;
  subject: string;
  /** the Nats-Msg-Id header, or null (read from the headers on first use) */
  readonly msgId: string | null;
  /** when the stream stored the message */
  time: Date;
  headers: MsgHdrs | undefined;
  data: Uint8Array;
  /** true while this instance is rebuilding state from messages stored before it started or took over */
  replaying: boolean;
}

/**
 * The context of one stream message. A handler that finishes its work later (an outcome still being
 * stored) registers that work with `ackAfter`; the transport acknowledges the message once all of it
 * has settled, and rebuilds from the stream if any of it failed.
 */
export class JetStreamContext extends BaseRpcContext<[JetStreamMessageInfo]> {
  private readonly pending: Promise<unknown>[] = [];

  constructor(readonly info: JetStreamMessageInfo) {
    super([info]);
  }

  get seq(): number {
    return this.info.seq;
  }

  get subject(): string {
    return this.info.subject;
  }

  ackAfter(work: Promise<unknown>): void {
    this.pending.push(work);
  }

  /** @internal the transport's view of the registered work */
  settled(): Promise<unknown> | null {
    if (this.pending.length === 0) return null;
    return this.pending.length === 1 ? this.pending[0] : Promise.all(this.pending);
  }
}

/** A core NATS request/reply context (queries). */
export class NatsRequestContext extends BaseRpcContext<[string]> {
  constructor(readonly subject: string) {
    super([subject]);
  }
}
