/**
 * A NATS connection whose socket writes are coalesced: one write per turn of the event loop.
 *
 * Why: the client flushes its outbound buffer on a microtask, so code that awaits between messages
 * (a decision, its publish, an ack, the next delivery) makes one `write` system call per message. Here
 * every frame the client sends during a turn is held and written at once from `setImmediate`: under
 * load a whole batch of deliveries costs one write; idle, a frame leaves a few microseconds later.
 *
 * Built on the client's own Node transport (`@nats-io/transport-node`, pinned to 3.3.x) and its
 * transport factory: the connection is otherwise the client's, TLS, reconnects and all. A reconnect
 * after another `connect()` of the plain client in the same process dials with the plain transport.
 */
import type { ConnectionOptions, NatsConnection } from '@nats-io/transport-node';
import { NatsConnectionImpl, setTransportFactory } from '@nats-io/nats-core/internal';
import { NodeTransport, nodeResolveHost } from '@nats-io/transport-node/lib/node_transport.js';

class CoalescingTransport extends NodeTransport {
  private held: Uint8Array[] = [];
  private bytes = 0;
  private scheduled = false;

  override send(frame: Uint8Array): void {
    this.held.push(frame);
    this.bytes += frame.length;
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flushHeld);
  }

  override close(err?: Error): Promise<void> {
    this.flushHeld();
    return super.close(err);
  }

  private readonly flushHeld = (): void => {
    this.scheduled = false;
    const n = this.held.length;
    if (n === 0) return;
    const frame = n === 1 ? this.held[0] : Buffer.concat(this.held, this.bytes);
    this.held = [];
    this.bytes = 0;
    super.send(frame);
  };
}

/** Connects like `connect()` of `@nats-io/transport-node`, with coalesced socket writes. */
export function connectCoalesced(options: ConnectionOptions): Promise<NatsConnection> {
  setTransportFactory({ factory: () => new CoalescingTransport(), dnsResolveFn: nodeResolveHost });
  return NatsConnectionImpl.connect(options);
}
