import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // The monorepo's path aliases (@resilient-llm/nestjs, @app/fault-upstream) point
    // at TypeScript sources, as `nest g library` sets them up in tsconfig.json.
    tsconfigPaths: true,
  },
  test: {
    globals: true,
    root: './',
    include: ['libs/**/*.spec.ts', 'src/**/*.spec.ts', 'bench/**/*.spec.ts', 'test/**/*.e2e-spec.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    // Far above any test's normal duration (a few seconds at most): a loaded machine is slower, not wrong.
    testTimeout: 60_000,
    // The pack-and-install test builds the library with tsc: give it room on 2 cores.
    hookTimeout: 120_000,
  },
});
