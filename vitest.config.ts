import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The function bundles, built once per run for the tests that load them (build, deploy environment).
    globalSetup: ['test/support/built-bundles.ts'],
    // Two cores: forks keep crypto-heavy files parallel without sharing module state.
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 60_000,
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT' },
  },
});
