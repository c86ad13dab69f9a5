import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const adapterOnly = (name, where) => ({ name, message: `only ${where} may use ${name}; go through its port` });

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'data/**', '.tmp/**', 'test-results/**', 'playwright-report/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Domain first, adapters at the edge: only storage/ talks S3, only engine/docker/ talks to
    // Docker, only db/ opens SQLite. main.ts and app.ts are the composition roots.
    files: ['apps/server/src/{jobs,http,demo,configs,notifications,datasets,budget,images}/**/*.ts', 'apps/server/src/engine/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [adapterOnly('dockerode', 'engine/docker/'), adapterOnly('better-sqlite3', 'db/')],
          patterns: [{ group: ['@aws-sdk/*'], message: 'only storage/ may use the AWS SDK; go through ObjectStore' }],
        },
      ],
    },
  },
);
