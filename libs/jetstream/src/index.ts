export * from './nats-server.launcher.js';
export * from './stream.js';
export * from './event-store.js';
export * from './lease.js';
export * from './unavailable.js';
