import { FaultUpstream } from '@app/fault-upstream';
import { NestFactory } from '@nestjs/core';
import { trace } from '@opentelemetry/api';
import { type ReadableSpan, type SpanExporter, BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { ResilientLlmModuleOptions } from '@resilient-llm/nestjs';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { overheadModule } from './bench-app.js';

const run = promisify(execFile);

export interface OverheadRow {
  config: string;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Throughput over the unguarded handler's, measured in the same run. */
  ratioToUnguarded: number;
  requests: number;
  non2xx: number;
}

interface Config {
  name: string;
  path: 'plain' | 'guarded' | 'idempotent';
  options: (dir: string) => ResilientLlmModuleOptions | undefined;
  tracing?: boolean;
}

/** Exports nowhere: the cost of recording and batching spans, without the memory of keeping them. */
class DroppingExporter implements SpanExporter {
  exported = 0;
  export(spans: ReadableSpan[], done: (result: { code: number }) => void): void {
    this.exported += spans.length;
    done({ code: 0 });
  }
  async shutdown(): Promise<void> {}
}

const BUDGET = { budget: { limits: { dailyUsd: 1_000_000 } } };

export function overheadConfigs(postgresUrl?: string): Config[] {
  return [
    { name: 'unguarded (bare openai SDK)', path: 'plain', options: () => ({}) },
    { name: '@Guarded, tracing off', path: 'guarded', options: () => ({}) },
    { name: '@Guarded + @Idempotent (new key each)', path: 'idempotent', options: () => ({}) },
    { name: '@Guarded + budget, SQLite file', path: 'guarded', options: (dir) => ({ ...BUDGET, storage: { database: join(dir, 'bench.sqlite') } }) },
    { name: '@Guarded + budget, SQLite memory', path: 'guarded', options: () => ({ ...BUDGET, storage: { database: ':memory:' } }) },
    ...(postgresUrl ? [{ name: '@Guarded + budget, PostgreSQL', path: 'guarded' as const, options: () => ({ ...BUDGET, storage: { database: postgresUrl } }) }] : []),
    // Last: once an SDK is registered the tracer stays live until trace.disable().
    { name: '@Guarded, OpenTelemetry SDK (in memory)', path: 'guarded', options: () => ({}), tracing: true },
  ];
}

async function load(url: string, seconds: number, connections: number, idempotent: boolean) {
  const script = join(import.meta.dirname, 'load.mjs');
  const { stdout } = await run(process.execPath, [script, url, String(seconds), String(connections), idempotent ? 'idempotent' : ''], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as { requestsPerSec: number; p50Ms: number; p99Ms: number; total: number; non2xx: number };
}

export async function runOverheadBenchmark(options: {
  seconds: number;
  connections: number;
  postgresUrl?: string;
  outDir?: string;
  /** Only the first N configurations (the smoke test runs two). */
  limit?: number;
  progress?: (label: string) => void;
}) {
  const dir = await mkdtemp(join(tmpdir(), 'resilient-llm-overhead-'));
  const upstream = await FaultUpstream.start();
  const rows: OverheadRow[] = [];
  try {
    for (const config of overheadConfigs(options.postgresUrl).slice(0, options.limit)) {
      options.progress?.(config.name);
      let provider: TracerProvider | undefined;
      if (config.tracing) {
        provider = new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter: new DroppingExporter() })] });
        trace.setGlobalTracerProvider(provider);
      }
      const app = await NestFactory.create(overheadModule(upstream.baseURL, config.options(dir) ?? {}), { logger: false });
      await app.listen(0, '127.0.0.1');
      const url = `http://127.0.0.1:${app.getHttpServer().address().port}/${config.path}`;
      try {
        await load(url, 1, options.connections, config.path === 'idempotent'); // warm-up
        const figures = await load(url, options.seconds, options.connections, config.path === 'idempotent');
        rows.push({
          config: config.name,
          requestsPerSec: Math.round(figures.requestsPerSec),
          p50Ms: figures.p50Ms,
          p99Ms: figures.p99Ms,
          ratioToUnguarded: 0,
          requests: figures.total,
          non2xx: figures.non2xx,
        });
      } finally {
        await app.close();
        if (provider) {
          await provider.shutdown();
          trace.disable();
        }
      }
    }
  } finally {
    await upstream.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const baseline = rows[0].requestsPerSec;
  for (const row of rows) row.ratioToUnguarded = Math.round((row.requestsPerSec / baseline) * 100) / 100;
  if (options.outDir) {
    await mkdir(options.outDir, { recursive: true });
    const meta = { measuredAt: new Date().toISOString(), node: process.version, seconds: options.seconds, connections: options.connections };
    await writeFile(join(options.outDir, 'overhead.json'), `${JSON.stringify({ ...meta, rows }, null, 2)}\n`);
    await writeFile(
      join(options.outDir, 'overhead.md'),
      `# Overhead of the guard\n\nMeasured ${meta.measuredAt} on this machine (Node ${meta.node}): autocannon, ${meta.connections} connections, ${meta.seconds} s per configuration after a 1 s warm-up, against a zero-latency upstream in the app's process.\n\n${overheadMarkdown(rows)}`,
    );
  }
  return rows;
}

export function overheadMarkdown(rows: OverheadRow[]): string {
  return [
    '| configuration | req/s | p50 ms | p99 ms | vs unguarded | requests | non-2xx |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.config} | ${r.requestsPerSec.toLocaleString('en-US')} | ${r.p50Ms} | ${r.p99Ms} | ${r.ratioToUnguarded} | ${r.requests.toLocaleString('en-US')} | ${r.non2xx} |`),
    '',
  ].join('\n');
}
