import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

// The benchmarks run Nest apps, whose dependency injection needs decorator metadata: Vitest's
// transform emits it (tsx does not), so they run as Vitest files, one at a time, for as long as they take.
export default defineConfig({
  resolve: { tsconfigPaths: true },
  test: {
    root: resolve(import.meta.dirname, '..'),
    // The benchmarks, and the specs of their pure parts (figures, medians, acceptance).
    include: ['bench/*.bench-run.ts', 'bench/**/*.spec.ts'],
    globals: true,
    testTimeout: 30 * 60_000,
    fileParallelism: false,
    reporters: ['default'],
  },
});
