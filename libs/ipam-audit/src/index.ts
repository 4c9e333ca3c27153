export * from './stored-event.js';
export * from './audit.projection.js';
export * from './verify.js';
