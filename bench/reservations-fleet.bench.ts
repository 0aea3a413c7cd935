/**
 * Budget reservations per second of a fleet: 4 replica processes on one PostgreSQL, each with a
 * BudgetGuard (with and without `budget.escrow`) and 50 concurrent callers doing reserve+settle
 * pairs on one global window for a few seconds; then each mode once more at a limit that is
 * reached, to measure overshoot (spent minus limit, never above 0). `npm run bench:reservations`
 * runs it after the per-store benchmark; figures go to bench/results/reservations-fleet.{json,md}.
 */
import 'reflect-metadata';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { BudgetGuard } from '../libs/resilient-llm/src/budget/budget.guard.js';
import { isBudgetExhaustedException } from '../libs/resilient-llm/src/budget/budget-exhausted.exception.js';
import { resolveModuleOptions } from '../libs/resilient-llm/src/module/resilient-llm-options.validation.js';
import { ResilientLlmStorage } from '../libs/resilient-llm/src/storage/resilient-llm-storage.js';
import { resolveStorageOptions } from '../libs/resilient-llm/src/storage/storage-options.validation.js';
import { TypeOrmBudgetStore } from '../libs/resilient-llm/src/storage/typeorm-budget.store.js';
import { systemClock } from '../libs/resilient-llm/src/time/system-time.js';

const REPLICAS = 4;
const CALLERS = 50;
const AMOUNT = 100;

interface ReplicaReport {
  pairs: number;
  refused: number;
  ms: number;
}

export interface FleetResult {
  escrow: boolean;
  replicas: number;
  callersPerReplica: number;
  /** Reserve+settle pairs per second, the fleet together. */
  pairsPerSec?: number;
  /** At a limit that is reached: the limit, what was spent, and spent minus limit (0 or less: no overshoot). */
  limitMicro?: number;
  spentMicro?: number;
  overshootMicro?: number;
}

/** One replica: reserve+settle pairs until `DURATION_MS` has passed, or until the budget refuses. */
async function replica(): Promise<void> {
  const env = process.env;
  const options = resolveModuleOptions({ budget: { limits: { dailyUsd: Number(env.DAILY_USD) }, escrow: env.ESCROW === '1' }, storage: { database: env.LEDGER! } });
  const storage = await ResilientLlmStorage.open(resolveStorageOptions({ database: env.LEDGER! }));
  const guard = new BudgetGuard(options, new TypeOrmBudgetStore(storage.dataSource), systemClock);
  guard.onModuleInit();
  process.stdout.write('READY\n');
  await once(createInterface({ input: process.stdin }), 'line');
  const untilLimit = env.UNTIL_LIMIT === '1';
  const report: ReplicaReport = { pairs: 0, refused: 0, ms: 0 };
  const started = performance.now();
  const deadline = started + Number(env.DURATION_MS);
  const caller = async () => {
    while (performance.now() < deadline) {
      try {
        const reservation = await guard.reserve({ amountMicro: AMOUNT, model: 'bench', inFlightMicro: AMOUNT });
        await guard.settle(reservation, { actualMicro: AMOUNT, wasteMicro: 0, succeeded: true });
        report.pairs++;
      } catch (error) {
        if (!isBudgetExhaustedException(error)) throw error;
        report.refused++;
        if (untilLimit) return;
      }
    }
  };
  await Promise.all(Array.from({ length: CALLERS }, caller));
  report.ms = performance.now() - started;
  await guard.beforeApplicationShutdown();
  await storage.close();
  process.stdout.write(`RESULT ${JSON.stringify(report)}\n`);
}

async function startReplica(env: Record<string, string>): Promise<{ child: ChildProcess; ready: Promise<void>; result: Promise<ReplicaReport> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--replica'], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  let ready!: () => void;
  const readyPromise = new Promise<void>((resolve) => (ready = resolve));
  const result = new Promise<ReplicaReport>((resolve, reject) => {
    lines.on('line', (line) => {
      if (line === 'READY') ready();
      if (line.startsWith('RESULT ')) resolve(JSON.parse(line.slice(7)) as ReplicaReport);
    });
    child.on('exit', (code) => reject(new Error(`a replica exited with ${code}`)));
  });
  return { child, ready: readyPromise, result };
}

async function withSchema<T>(url: string, run: (url: string, query: (sql: string) => Promise<pg.QueryResult>) => Promise<T>): Promise<T> {
  const schema = `rl_fleet_${Date.now()}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const scoped = `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  try {
    return await run(scoped, (sql) => admin.query(sql.replaceAll('$schema', schema)));
  } finally {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}

/** One fleet run; the replicas' reports and the global daily window afterwards. */
async function fleetRun(postgresUrl: string, env: { ESCROW: string; DAILY_USD: string; DURATION_MS: string; UNTIL_LIMIT: string }) {
  return withSchema(postgresUrl, async (url, query) => {
    const replicas = await Promise.all(Array.from({ length: REPLICAS }, () => startReplica({ ...env, LEDGER: url })));
    await Promise.all(replicas.map((r) => r.ready));
    for (const r of replicas) r.child.stdin!.write('GO\n');
    const reports = await Promise.all(replicas.map((r) => r.result));
    const { rows } = await query(`SELECT spent_micro, reserved_micro, limit_micro FROM $schema.resilient_llm_budget_window WHERE scope = 'global' AND kind = 'daily'`);
    return { reports, window: { spentMicro: Number(rows[0].spent_micro), reservedMicro: Number(rows[0].reserved_micro), limitMicro: Number(rows[0].limit_micro) } };
  });
}

export async function runFleetBenchmark(options: { postgresUrl: string; durationMs: number }): Promise<FleetResult[]> {
  const results: FleetResult[] = [];
  for (const escrow of [false, true]) {
    const flag = escrow ? '1' : '0';
    const throughput = await fleetRun(options.postgresUrl, { ESCROW: flag, DAILY_USD: '1000000', DURATION_MS: String(options.durationMs), UNTIL_LIMIT: '0' });
    const pairs = throughput.reports.reduce((sum, report) => sum + report.pairs, 0);
    const seconds = Math.max(...throughput.reports.map((report) => report.ms)) / 1000;
    // 2 000 pairs fit; every caller goes on until the store refuses it.
    const limit = await fleetRun(options.postgresUrl, { ESCROW: flag, DAILY_USD: String((2_000 * AMOUNT) / 1e6), DURATION_MS: '60000', UNTIL_LIMIT: '1' });
    results.push({
      escrow,
      replicas: REPLICAS,
      callersPerReplica: CALLERS,
      pairsPerSec: Math.round(pairs / seconds),
      limitMicro: limit.window.limitMicro,
      spentMicro: limit.window.spentMicro,
      overshootMicro: limit.window.spentMicro - limit.window.limitMicro,
    });
  }
  return results;
}

export function fleetMarkdown(results: FleetResult[]): string {
  const lines = [
    `| escrow | replicas x callers | reserve+settle per second (fleet) | at the limit: spent / limit (micro-USD) | overshoot |`,
    '| --- | ---: | ---: | ---: | ---: |',
    ...results.map((r) => `| ${r.escrow ? 'on' : 'off'} | ${r.replicas} x ${r.callersPerReplica} | ${r.pairsPerSec?.toLocaleString('en-US')} | ${r.spentMicro} / ${r.limitMicro} | $${Math.max(0, r.overshootMicro ?? 0) / 1e6} |`),
  ];
  return `${lines.join('\n')}\n`;
}

if (process.argv.includes('--replica')) {
  await replica();
  process.exit(0);
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const durationMs = Number(process.env.BENCH_DURATION_MS ?? 3_000);
  const results = await runFleetBenchmark({ postgresUrl: process.env.RESILIENT_LLM_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test', durationMs });
  const table = fleetMarkdown(results);
  const out = join(import.meta.dirname, 'results');
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'reservations-fleet.json'), `${JSON.stringify({ measuredAt: new Date().toISOString(), node: process.version, durationMs, results }, null, 2)}\n`);
  await writeFile(
    join(out, 'reservations-fleet.md'),
    `# Budget reservations per second, a fleet on one PostgreSQL\n\n${REPLICAS} replica processes x ${CALLERS} callers, reserve+settle pairs through BudgetGuard on one global window for ${durationMs} ms; then at a limit of 2 000 pairs, each caller going on until refused.\n\n${table}`,
  );
  console.log(table);
}
