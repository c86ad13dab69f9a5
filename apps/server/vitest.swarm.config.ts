import { defineConfig } from 'vitest/config';

// Jobs on a real 3-engine Docker Swarm (scripts/swarm-lab, brought up by the tests): run after
// the main suite, one file at a time, since some tests kill a node's engine and every file
// shares the one lab.
export default defineConfig({
  test: {
    name: 'swarm',
    root: 'apps/server',
    environment: 'node',
    include: ['test-swarm/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 300_000,
  },
});
