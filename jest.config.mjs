/** Jest 30 + ts-jest in ESM mode (run with NODE_OPTIONS=--experimental-vm-modules, see package.json). */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  roots: ['<rootDir>/libs', '<rootDir>/apps', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  // the NATS cluster tests run on their own: npm run test:cluster (jest.cluster.config.mjs)
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/cluster/'],
  testTimeout: 30000,
};
