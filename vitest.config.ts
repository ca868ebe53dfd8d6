import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: more forks only make every timing-sensitive test slower.
    maxWorkers: 2,
    // CI runs the README's `npm test` as written and still needs the JSON report for its summary.
    ...(process.env['FLEETSCAN_TEST_REPORT']
      ? {
          reporters: ['default', 'json'],
          outputFile: { json: process.env['FLEETSCAN_TEST_REPORT'] },
        }
      : {}),
  },
});
