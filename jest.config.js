// ESM + TypeScript through ts-jest; run with NODE_OPTIONS=--experimental-vm-modules (hack/test.sh does).
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  // the planes' state (etcd data, logs) is no source: etcd's own *.snap files there were taken for
  // obsolete jest snapshots, which fails a --ci run
  modulePathIgnorePatterns: ['<rootDir>/\\.cluster/'],
};

// brings a local control plane up once for the run and always tears it down (test/support/cluster-setup.ts)
const plane = {
  globalSetup: '<rootDir>/test/support/cluster-setup.ts',
  globalTeardown: '<rootDir>/test/support/cluster-teardown.ts',
};

const faults = '<rootDir>/test/integration/operator-faults/';

// the images `npm run images` built, on its private Docker engine (started or reused, and loaded
// from the saved tarballs, by the setup); run with --runInBand after `npm run images`
const images = {
  globalSetup: '<rootDir>/test/images/setup.ts',
  globalTeardown: '<rootDir>/test/images/teardown.ts',
};

/** @type {import('jest').Config} */
export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      // The engine tests and the training convolution again on native TensorFlow
      // (@tensorflow/tfjs-node, installed by `npm run setup:native`; test/support/backend.ts).
      // hack/test.sh runs it after that setup.
      ...common,
      displayName: 'unit-native',
      testMatch: ['<rootDir>/test/unit/runtime/engine/**/*.test.ts', '<rootDir>/test/unit/runtime/train/conv3x3.test.ts'],
      globals: { digitserveBackend: 'tensorflow' },
      globalSetup: '<rootDir>/test/support/native-setup.ts',
    },
    {
      ...common,
      ...plane,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', faults],
    },
    {
      // The operator under faults: these stop and restart their plane's kube-apiserver and compact
      // its etcd, so they get a plane of their own (same binaries, own state dir and ports) that
      // nothing else uses. Run with --runInBand (hack/test.sh does; the setup refuses otherwise).
      ...common,
      ...plane,
      displayName: 'operator-faults',
      testMatch: [`${faults}**/*.test.ts`],
      globals: { digitservePlane: { dir: '.cluster/faults' } },
      setupFiles: ['<rootDir>/test/support/plane-env.ts'],
    },
    {
      // Third-party clients (Triton's tritonclient, from the Python environment hack/python/venv.sh
      // makes) against a real runtime process; hack/test.sh runs it after the unit suites.
      ...common,
      displayName: 'clients',
      testMatch: ['<rootDir>/test/clients/**/*.test.ts'],
    },
    { ...common, ...images, displayName: 'images', testMatch: ['<rootDir>/test/images/**/*.test.ts'] },
    {
      // Real pods: a plane of its own in .cluster/journey started with `cluster:up --real-node`
      // (a real kubelet node beside the kwok ones; docs/cluster.md). Run with --runInBand.
      ...common,
      ...plane,
      displayName: 'journey',
      testMatch: ['<rootDir>/test/journey/**/*.test.ts'],
      globals: { digitservePlane: { dir: '.cluster/journey', realNode: true } },
      setupFiles: ['<rootDir>/test/support/plane-env.ts'],
    },
  ],
  testTimeout: 60_000,
};
