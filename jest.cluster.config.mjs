/**
 * `npm run test:cluster`: the tests on a three-node NATS cluster (test/cluster/), a few minutes on their
 * own; `npm test` (jest.config.mjs) leaves them out. Same transform as jest.config.mjs.
 */
import base from './jest.config.mjs';

export default {
  ...base,
  roots: ['<rootDir>/test/cluster'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 200000,
};
