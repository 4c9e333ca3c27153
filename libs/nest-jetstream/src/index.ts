export * from './jetstream.context.js';
export * from './jetstream.server.js';
export * from './stream-message.decorator.js';
