// ESM + TypeScript through ts-jest; run with NODE_OPTIONS=--experimental-vm-modules (hack/test.sh does).
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
};

/** @type {import('jest').Config} */
export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts', '<rootDir>/test/e2e/**/*.test.ts'],
      // brings the local control plane up once for the run and always tears it down
      globalSetup: '<rootDir>/test/support/cluster-setup.ts',
      globalTeardown: '<rootDir>/test/support/cluster-teardown.ts',
    },
  ],
  testTimeout: 60_000,
};
