import { defineConfig } from 'vitest/config';

// The suite runs on Node 20 (the machine's); the SDK's advice to move to Node 22 is noise here.
// Set in this process, not only for the workers: the global setup's SDK clients (DynamoDB Local)
// live here, and every worker and child process inherits it from here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup-env.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
