import { join } from 'node:path';
import { POSTGRES_URL, createTestSchema, skipWithoutPostgres } from '../test/support/postgres.js';
import { overheadMarkdown, runOverheadBenchmark, sideBySideMarkdown } from './overhead/index.js';
import { defaultBenchNodes, nodeRuntimes } from './overhead/node-runtimes.js';

// `npm run bench:overhead`: the handler unguarded and guarded, on each store, on this Node and Node 24
// side by side (BENCH_NODES=20,24,26 to choose), written to bench/results/overhead.*
it('overhead benchmark', async () => {
  const schema = (await skipWithoutPostgres()) ? undefined : await createTestSchema();
  try {
    const rows = await runOverheadBenchmark({
      seconds: Number(process.env.BENCH_SECONDS ?? 5),
      rounds: Number(process.env.BENCH_ROUNDS ?? 3),
      connections: Number(process.env.BENCH_CONNECTIONS ?? 10),
      postgresUrl: schema?.url,
      runtimes: await nodeRuntimes(process.env.BENCH_NODES ?? defaultBenchNodes()),
      outDir: join(import.meta.dirname, 'results'),
      progress: (label) => process.stderr.write(`measuring: ${label}\n`),
    });
    console.log(`\n${sideBySideMarkdown(rows)}\n${overheadMarkdown(rows)}`);
    console.log(`Written to bench/results/overhead.json and overhead.md (PostgreSQL at ${POSTGRES_URL}${schema ? '' : ': not reachable, skipped'})`);
  } finally {
    await schema?.drop();
  }
});
