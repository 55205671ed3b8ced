// Two projects: `unit` needs nothing but Node; `integration` talks to real brokers
// (the environment layer provisions and starts them) and runs one file at a time per Jest process;
// scripts/test-integration.mjs runs two such processes (chaos, the rest) side by side.
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json' }];
// @pact-foundation/pact 16 requires https-proxy-agent, agent-base and proxy-agent-negotiate,
// which are ESM-only; Jest on Node 20 loads CommonJS only, so those three (and nothing else in
// node_modules) are transpiled to CommonJS by ts-jest with allowJs.
const esmOnly = ['https-proxy-agent', 'agent-base', 'proxy-agent-negotiate'];
const jsToCommonJs = ['ts-jest', { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022', esModuleInterop: true, isolatedModules: true } }];
const transform = { '^.+\\.tsx?$': tsJest, '^.+\\.jsx?$': jsToCommonJs };
const transformIgnorePatterns = [`/node_modules/(?!(${esmOnly.join('|')})/)`];
// Tests run on the sources: a package imported by name resolves to its index.ts, as in tsconfig.json's paths.
const moduleNameMapper = { '^@eda-harness/([a-z-]+)$': '<rootDir>/$1/index.ts' };
const modulePathIgnorePatterns = ['<rootDir>/[a-z-]+/dist/'];

/** @type {import('jest').Config} */
module.exports = {
  // The default reporter, then the slowest files with their times (where a CI run's minutes go).
  reporters: ['default', '<rootDir>/test/support/slowest-files-reporter.js'],
  projects: [
    {
      displayName: 'unit',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
      transform,
      transformIgnorePatterns,
      moduleNameMapper,
      modulePathIgnorePatterns,
      testEnvironment: 'node',
    },
    {
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts', '<rootDir>/test/memory/**/*.test.ts'],
      transform,
      transformIgnorePatterns,
      moduleNameMapper,
      modulePathIgnorePatterns,
      testEnvironment: 'node',
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/integration-timeout.ts'],
      slowTestThreshold: 60,
    },
  ],
};
