import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';

const adapterOnly = (name, where) => ({ name, message: `only ${where} may use ${name}; go through its port` });
// Its error types too: the port (storage/object-store.ts) declares the ones callers act on.
const s3Adapter = {
  group: ['**/storage/s3-object-store*', '**/storage/s3-client*'],
  message: 'only storage/ (and main.ts) may use the S3 adapter; go through ObjectStore and its error types',
};

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'data/**', '.tmp/**', 'test-results/**', 'playwright-report/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // Hooks called conditionally or with stale dependencies are bugs the type checker cannot see.
  { ...reactHooks.configs.flat['recommended-latest'], files: ['apps/web/**/*.{ts,tsx}'] },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Domain first, adapters at the edge: only storage/ talks S3, only engine/docker/ talks to
    // Docker, only db/ opens SQLite. main.ts and app.ts are the composition roots.
    files: [
      'apps/server/src/{jobs,http,demo,job-parameters,notifications,datasets,budget,usage,metrics,images,accounts}/**/*.ts',
      'apps/server/src/engine/*.ts',
      'apps/server/src/engine/{kubernetes,node-agent}/*.ts',
    ],
    // Tests beside their source may open a second SQLite connection (a reader beside the writer).
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [adapterOnly('dockerode', 'engine/docker/'), adapterOnly('better-sqlite3', 'db/')],
          patterns: [{ group: ['@aws-sdk/*'], message: 'only storage/ may use the AWS SDK; go through ObjectStore' }, s3Adapter],
        },
      ],
    },
  },
  {
    // The rest of the server outside storage/ may not reach for the S3 adapter either.
    files: ['apps/server/src/*.ts', 'apps/server/src/{db,engine/docker}/**/*.ts'],
    ignores: ['apps/server/src/main.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [s3Adapter] }] },
  },
);
