import { FaultUpstream } from '@app/fault-upstream';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { trace } from '@opentelemetry/api';
import { type ReadableSpan, type SpanExporter, BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { overheadModule } from './bench-app.js';
import { withCpuProfile } from './cpu-profile.js';
import { overheadConfigs } from './configs.js';

const run = promisify(execFile);

/** One configuration measured by one child process: what `measure-config.bench-run.ts` is told. */
export interface MeasurementJob {
  config: string;
  seconds: number;
  connections: number;
  /** A fresh SQLite file for this measurement. */
  sqliteFile: string;
  postgresUrl?: string;
  /** Where the child writes its `LoadFigures` as JSON. */
  out: string;
  /** Where to write a CPU profile of the app's process during the measured load (not the warm-up), if anywhere. */
  cpuProfile?: string;
}

export interface LoadFigures {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  total: number;
  non2xx: number;
  /** Connection errors and timeouts autocannon saw. */
  errors: number;
}

/** Exports nowhere: the cost of recording and batching spans, without the memory of keeping them. */
class DroppingExporter implements SpanExporter {
  export(_spans: ReadableSpan[], done: (result: { code: number }) => void): void {
    done({ code: 0 });
  }
  async shutdown(): Promise<void> {}
}

async function load(url: string, seconds: number, connections: number, idempotent: boolean): Promise<LoadFigures> {
  const script = join(import.meta.dirname, 'load.mjs');
  const { stdout } = await run(process.execPath, [script, url, String(seconds), String(connections), idempotent ? 'idempotent' : ''], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as LoadFigures;
}

/** Boots the app of one configuration with its upstream, warms it up for 1 s, then drives it. */
export async function measureConfig(job: MeasurementJob): Promise<LoadFigures> {
  const config = overheadConfigs(job).find((candidate) => candidate.name === job.config);
  if (!config) throw new Error(`unknown overhead configuration "${job.config}"`);
  const upstream = await FaultUpstream.start();
  const provider = config.tracing ? new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter: new DroppingExporter() })] }) : undefined;
  let app: INestApplication | undefined;
  try {
    if (provider) trace.setGlobalTracerProvider(provider);
    app = await NestFactory.create(overheadModule(upstream.baseURL, config.options), { logger: false });
    await app.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${app.getHttpServer().address().port}/${config.path}`;
    const idempotent = config.path === 'idempotent';
    await load(url, 1, job.connections, idempotent);
    return await withCpuProfile(job.cpuProfile, () => load(url, job.seconds, job.connections, idempotent));
  } finally {
    await app?.close();
    await provider?.shutdown();
    await upstream.stop();
  }
}
