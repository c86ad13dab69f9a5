import { defineConfig } from 'vitest/config';

// Faults that take a shared service down (the Docker engine itself): run alone, after the main
// suite, one file at a time, so no other test loses its engine midway.
export default defineConfig({
  test: {
    name: 'faults',
    root: 'apps/server',
    environment: 'node',
    include: ['test-faults/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 120_000,
  },
});
