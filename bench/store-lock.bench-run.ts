import { FaultUpstream } from '@app/fault-upstream';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { storeFaultsModule } from '../test/apps/store-faults.app.js';
import { watchEventLoop } from '../test/support/event-loop-stall.js';
import { watchSqliteCalls } from '../test/support/sqlite-blocking.js';
import { lockInAnotherProcess } from '../test/support/sqlite-locker.js';

const run = promisify(execFile);
const SECONDS = Number(process.env.BENCH_LOCK_SECONDS ?? 10);
const ASKERS = Number(process.env.BENCH_ASKERS ?? 8);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const round = (ms: number) => Math.round(ms * 10) / 10;

interface Phase {
  phase: string;
  pings: number;
  pingP50Ms: number;
  pingP99Ms: number;
  pingMaxMs: number;
  longestSqliteCallMs: number;
  eventLoopMaxStallMs: number;
  eventLoopP99DelayMs: number;
  guardedCallsByStatus: Record<string, number>;
}

/** `SECONDS` of GET /ping every 10 ms from another process, while `ASKERS` clients call the guarded route. */
async function measure(phase: string, base: string): Promise<Phase> {
  const loop = watchEventLoop();
  const sqlite = watchSqliteCalls();
  const { stdout } = await run(process.execPath, [join(import.meta.dirname, 'store-lock', 'probe.mjs'), base, String(SECONDS), String(ASKERS)], { maxBuffer: 16 << 20 });
  const stalls = loop.stop();
  const calls = sqlite.stop();
  const { pings, asks } = JSON.parse(stdout) as { pings: number[]; asks: { byStatus: Record<string, number> } };
  const sorted = [...pings].sort((a, b) => a - b);
  return {
    phase,
    pings: pings.length,
    pingP50Ms: round(percentile(sorted, 50)),
    pingP99Ms: round(percentile(sorted, 99)),
    pingMaxMs: round(sorted.at(-1)!),
    longestSqliteCallMs: round(calls.longestMs),
    eventLoopMaxStallMs: round(stalls.maxStallMs),
    eventLoopP99DelayMs: round(stalls.p99DelayMs),
    guardedCallsByStatus: asks.byStatus,
  };
}

// `npx vitest run --config bench/vitest.config.ts store-lock`: GET /ping while another process
// holds the SQLite store's write lock and guarded calls keep meeting it, next to the same load
// without the lock; bench/results/store-lock.{json,md}.
it('store lock benchmark', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'resilient-llm-lock-bench-'));
  const database = join(dir, 'ledger.sqlite');
  const upstream = await FaultUpstream.start();
  let app: INestApplication | undefined;
  try {
    const options = { client: { apiKey: 't', baseURL: upstream.baseURL }, budget: { limits: { dailyUsd: 100 } }, storage: { database } };
    app = await NestFactory.create(storeFaultsModule(options), { logger: false });
    await app.listen(0, '127.0.0.1');
    const base = `http://127.0.0.1:${app.getHttpServer().address().port}`;
    await fetch(`${base}/ask`, { method: 'POST' });

    const phases = [await measure('no lock', base)];
    const locker = await lockInAnotherProcess(database);
    try {
      phases.push(await measure(`write lock held by another process for ${SECONDS} s`, base));
    } finally {
      await locker.release();
    }

    const results = join(import.meta.dirname, 'results');
    writeFileSync(join(results, 'store-lock.json'), `${JSON.stringify(phases, null, 2)}\n`);
    const table = [
      '# GET /ping while another process holds the SQLite write lock',
      '',
      `GET /ping every 10 ms from another process for ${SECONDS} s, while ${ASKERS} clients call a guarded route that`,
      'writes to the store (with the lock held it waits `storage.maxWaitMs`, 2 s, then answers 503).',
      '',
      '| phase | pings | p50 | p99 | max | longest SQLite call | event loop: longest stall | event loop: p99 delay | guarded calls (by status) |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
      ...phases.map(
        (p) =>
          `| ${p.phase} | ${p.pings} | ${p.pingP50Ms} ms | ${p.pingP99Ms} ms | ${p.pingMaxMs} ms | ${p.longestSqliteCallMs} ms | ${p.eventLoopMaxStallMs} ms | ${p.eventLoopP99DelayMs} ms | ${JSON.stringify(p.guardedCallsByStatus)} |`,
      ),
      '',
    ].join('\n');
    writeFileSync(join(results, 'store-lock.md'), table);
    console.log(`\n${table}`);
  } finally {
    await app?.close();
    await upstream.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
