import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Stress and crash tests spawn child processes; two cores on CI, so keep file-level parallelism modest.
    maxWorkers: 2,
    pool: 'forks',
  },
});
