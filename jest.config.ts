import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from 'jest';

type ProjectConfig = Exclude<NonNullable<Config['projects']>[number], string>;

// Workspace packages resolve to their TypeScript sources, so tests never run stale dist/.
const workspaceSources: Record<string, string> = {};
for (const folder of ['packages', 'apps']) {
  for (const name of readdirSync(join(__dirname, folder))) {
    workspaceSources[`^@fanout/${name}$`] = `<rootDir>/${folder}/${name}/src/index.ts`;
  }
}

const shared = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { ...workspaceSources, '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.test.json' }] },
  testEnvironment: 'node',
} satisfies ProjectConfig;

// Global setup runs outside Jest's module system, so it is loaded from the build (npm test builds first).
const config: Config = {
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/{packages,apps}/*/src/**/*.test.ts', '<rootDir>/bench/src/**/*.test.ts'] },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/{packages,apps}/*/test/**/*.test.ts'],
      globalSetup: '<rootDir>/packages/testkit/dist/global-setup.js',
      globalTeardown: '<rootDir>/packages/testkit/dist/global-teardown.js',
    },
    // Fault injection: each scenario starts its own redis-server and spawns the roles from the
    // build (apps/fanout/dist), so no global setup; `npm test` builds first.
    { ...shared, displayName: 'faults', testMatch: ['<rootDir>/faults/test/**/*.test.ts'] },
  ],
};

export default config;
