/** The NestJS custom transport over one JetStream stream. */
export { JetStreamContext, NatsRequestContext } from './jetstream.context.js';
export type { JetStreamMessageInfo } from './jetstream.context.js';
export { JetStreamServer } from './jetstream.server.js';
export type { TransportLogger, Leadership, JetStreamServerOptions, DeciderView } from './jetstream.server.js';
export { OnStreamMessage } from './stream-message.decorator.js';
