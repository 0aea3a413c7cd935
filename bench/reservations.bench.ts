/**
 * Budget reservations per second on each store: one reserve (INSERT through the admit
 * trigger) and one commit (UPDATE through the settle trigger) per operation, at several
 * concurrencies. `npm run bench:reservations`; figures go to bench/results/reservations.{json,md}.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ResilientLlmStorage } from '../libs/resilient-llm/src/storage/resilient-llm-storage.js';
import { resolveStorageOptions } from '../libs/resilient-llm/src/storage/storage-options.validation.js';
import { TypeOrmBudgetStore } from '../libs/resilient-llm/src/storage/typeorm-budget.store.js';
import { median } from './median.js';

export interface ReservationResult {
  store: string;
  concurrency: number;
  operations: number;
  /** Median over the runs of reserve+commit pairs per second. */
  medianOpsPerSec: number;
  runsOpsPerSec: number[];
}

const WINDOWS = [
  { id: 'global|daily|bench', scope: 'global', kind: 'daily' as const, period: 'bench', startsAt: 0, endsAt: 1, limitMicro: Number.MAX_SAFE_INTEGER },
  { id: 'global|monthly|bench', scope: 'global', kind: 'monthly' as const, period: 'bench', startsAt: 0, endsAt: 1, limitMicro: Number.MAX_SAFE_INTEGER },
];

async function measure(store: TypeOrmBudgetStore, operations: number, concurrency: number): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next++ < operations) {
      const id = randomUUID();
      await store.reserve({ id, windowIds: WINDOWS.map((w) => w.id), scope: 'global', model: 'bench', amountMicro: 100, createdAt: 0, leaseExpiresAt: Number.MAX_SAFE_INTEGER });
      await store.settle(id, { state: 'committed', actualMicro: 90, wasteMicro: 0, settledAt: 1 });
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return operations / ((performance.now() - started) / 1000);
}


async function postgresSchema(url: string): Promise<{ url: string; drop: () => Promise<void> } | undefined> {
  const schema = `rl_bench_${Date.now()}`;
  const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await admin.connect();
  } catch {
    return undefined;
  }
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  return {
    url: `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    drop: async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
      await client.end();
    },
  };
}

export async function runReservationBenchmark(options: { operations: number; runs: number; concurrencies: number[]; postgresUrl?: string }) {
  const dir = await mkdtemp(join(tmpdir(), 'resilient-llm-bench-'));
  const pgSchema = options.postgresUrl ? await postgresSchema(options.postgresUrl) : undefined;
  const stores: Array<[string, string]> = [
    ['sqlite-memory', ':memory:'],
    ['sqlite-file', join(dir, 'bench.sqlite')],
    ...(pgSchema ? [['postgres', pgSchema.url] as [string, string]] : []),
  ];
  const results: ReservationResult[] = [];
  try {
    for (const [name, database] of stores) {
      const storage = await ResilientLlmStorage.open(resolveStorageOptions({ database }));
      const store = new TypeOrmBudgetStore(storage.dataSource);
      await store.upsertWindows(WINDOWS);
      await measure(store, Math.min(200, options.operations), 4); // warm-up
      for (const concurrency of options.concurrencies) {
        const runs: number[] = [];
        for (let run = 0; run < options.runs; run++) runs.push(await measure(store, options.operations, concurrency));
        results.push({ store: name, concurrency, operations: options.operations, medianOpsPerSec: Math.round(median(runs)), runsOpsPerSec: runs.map(Math.round) });
      }
      await storage.close();
    }
  } finally {
    await pgSchema?.drop();
    await rm(dir, { recursive: true, force: true });
  }
  return results;
}

export function toMarkdown(results: ReservationResult[]): string {
  const lines = [
    '| store | concurrency | reserve+commit per second (median) | runs |',
    '| --- | ---: | ---: | --- |',
    ...results.map((r) => `| ${r.store} | ${r.concurrency} | ${r.medianOpsPerSec.toLocaleString('en-US')} | ${r.runsOpsPerSec.join(', ')} |`),
  ];
  return `${lines.join('\n')}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const operations = Number(process.env.BENCH_OPERATIONS ?? 2_000);
  const results = await runReservationBenchmark({
    operations,
    runs: Number(process.env.BENCH_RUNS ?? 5),
    concurrencies: [1, 16, 64],
    postgresUrl: process.env.RESILIENT_LLM_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  });
  const table = toMarkdown(results);
  const out = join(import.meta.dirname, 'results');
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'reservations.json'), `${JSON.stringify({ measuredAt: new Date().toISOString(), node: process.version, results }, null, 2)}\n`);
  await writeFile(join(out, 'reservations.md'), `# Budget reservations per second\n\n${operations} reserve+commit pairs per run, median of ${process.env.BENCH_RUNS ?? 5} runs, on this machine.\n\n${table}`);
  console.log(table);
}
