import { defineConfig } from 'vitest/config';

// Every workspace is a project with its own environment and setup.
export default defineConfig({
  test: { projects: ['packages/*', 'apps/*'] },
});
