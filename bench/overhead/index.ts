import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { median } from '../median.js';
import { UNGUARDED, overheadConfigs } from './configs.js';
import type { LoadFigures, MeasurementJob } from './measure.js';
import { type NodeRuntime, nodeRuntimes } from './node-runtimes.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
// The package's own CLI entry (its `bin`), beside its package.json.
const VITEST = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');

export interface OverheadRow {
  config: string;
  /** The Node it ran on, e.g. "v24.22.3". */
  node: string;
  /** Medians over the rounds. */
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Median over the rounds of this throughput over the unguarded handler's in the same round. */
  ratioToUnguarded: number;
  /** Requests measured, all rounds together. */
  requests: number;
  non2xx: number;
  /** Connection errors and timeouts, all rounds together. */
  errors: number;
  requestsPerSecByRound: number[];
}

export interface OverheadOptions {
  seconds: number;
  connections: number;
  /** Every configuration is measured once per round, each time in a fresh process; medians are reported. */
  rounds: number;
  postgresUrl?: string;
  outDir?: string;
  /** Only the first N configurations (the smoke test runs two). */
  limit?: number;
  /** The Nodes to measure on, side by side in every round (default: this process's). */
  runtimes?: NodeRuntime[];
  progress?: (label: string) => void;
}

export async function measureInChild(job: MeasurementJob, runtime?: NodeRuntime): Promise<LoadFigures> {
  await run(runtime?.execPath ?? process.execPath, [VITEST, 'run', '--config', 'bench/vitest.config.ts', 'bench/measure-config.bench-run.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...runtime?.env, RESILIENT_LLM_OVERHEAD_JOB: JSON.stringify(job) },
    maxBuffer: 16 << 20,
    // Boot, warm-up and load take seconds; a child still running a minute past that is stuck.
    timeout: (job.seconds + 1) * 1_000 + 60_000,
  });
  return JSON.parse(await readFile(job.out, 'utf8')) as LoadFigures;
}

/**
 * The handler unguarded and guarded, per store: rounds of every configuration in turn, each
 * measurement in a process of its own (autocannon in another), so that machine noise spreads
 * over all configurations alike and the medians compare like with like.
 */
export async function runOverheadBenchmark(options: OverheadOptions): Promise<OverheadRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'resilient-llm-overhead-'));
  const runtimes = options.runtimes ?? (await nodeRuntimes(String(process.versions.node.split('.')[0])));
  const names = overheadConfigs({ sqliteFile: '', postgresUrl: options.postgresUrl })
    .slice(0, options.limit)
    .map((config) => config.name);
  const key = (runtime: NodeRuntime, name: string) => `${runtime.version} ${name}`;
  const figures = new Map<string, LoadFigures[]>();
  try {
    for (let round = 1; round <= options.rounds; round++) {
      for (const runtime of runtimes) {
        for (const [index, name] of names.entries()) {
          options.progress?.(`round ${round}/${options.rounds}, ${runtime.version}: ${name}`);
          const base = join(dir, `r${round}-${runtime.version}-c${index}`);
          const job = { config: name, seconds: options.seconds, connections: options.connections, sqliteFile: `${base}.sqlite`, postgresUrl: options.postgresUrl, out: `${base}.json` };
          figures.set(key(runtime, name), [...(figures.get(key(runtime, name)) ?? []), await measureInChild(job, runtime)]);
        }
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const rows = runtimes.flatMap((runtime) => names.map((name) => overheadRow(runtime.version, name, figures.get(key(runtime, name))!, figures.get(key(runtime, UNGUARDED))!)));
  if (options.outDir) await writeResults(options, rows);
  return rows;
}

function overheadRow(node: string, config: string, rounds: LoadFigures[], baseline: LoadFigures[]): OverheadRow {
  return {
    config,
    node,
    requestsPerSec: Math.round(median(rounds.map((r) => r.requestsPerSec))),
    p50Ms: median(rounds.map((r) => r.p50Ms)),
    p99Ms: median(rounds.map((r) => r.p99Ms)),
    ratioToUnguarded: Math.round(median(rounds.map((r, round) => r.requestsPerSec / baseline[round].requestsPerSec)) * 100) / 100,
    requests: rounds.reduce((sum, r) => sum + r.total, 0),
    non2xx: rounds.reduce((sum, r) => sum + r.non2xx, 0),
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
    requestsPerSecByRound: rounds.map((r) => Math.round(r.requestsPerSec)),
  };
}

async function writeResults(options: OverheadOptions, rows: OverheadRow[]): Promise<void> {
  await mkdir(options.outDir!, { recursive: true });
  const nodes = [...new Set(rows.map((row) => row.node))];
  const meta = { measuredAt: new Date().toISOString(), nodes, seconds: options.seconds, connections: options.connections, rounds: options.rounds };
  await writeFile(join(options.outDir!, 'overhead.json'), `${JSON.stringify({ ...meta, rows }, null, 2)}\n`);
  await writeFile(
    join(options.outDir!, 'overhead.md'),
    `# Overhead of the guard\n\nMeasured ${meta.measuredAt} on this machine (Node ${nodes.join(' and ')}, side by side in every round): autocannon, ${meta.connections} connections, ` +
      `${meta.rounds} rounds of every configuration on every Node in turn, each measurement ${meta.seconds} s after a 1 s warm-up in a fresh process, ` +
      `against a zero-latency upstream in the app's process. Medians over the rounds; the ratio is the median of the per-round ratios to the unguarded handler on the same Node.\n\n` +
      `${sideBySideMarkdown(rows)}\n${overheadMarkdown(rows)}`,
  );
}

/** One line per configuration, the ratio to unguarded on each Node. */
export function sideBySideMarkdown(rows: OverheadRow[]): string {
  const nodes = [...new Set(rows.map((row) => row.node))];
  const configs = [...new Set(rows.map((row) => row.config))];
  const cell = (config: string, node: string) => {
    const row = rows.find((candidate) => candidate.config === config && candidate.node === node);
    return row ? `${row.ratioToUnguarded.toFixed(2)} (${row.requestsPerSec.toLocaleString('en-US')}/s)` : '';
  };
  return [
    `| configuration | ${nodes.map((node) => `vs unguarded, Node ${node}`).join(' | ')} |`,
    `| --- | ${nodes.map(() => '---:').join(' | ')} |`,
    ...configs.map((config) => `| ${config} | ${nodes.map((node) => cell(config, node)).join(' | ')} |`),
    '',
  ].join('\n');
}

export function overheadMarkdown(rows: OverheadRow[]): string {
  return [
    '| configuration | Node | req/s | p50 ms | p99 ms | vs unguarded | req/s by round | requests | non-2xx | errors |',
    '| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.config} | ${r.node} | ${r.requestsPerSec.toLocaleString('en-US')} | ${r.p50Ms} | ${r.p99Ms} | ${r.ratioToUnguarded.toFixed(2)} | ${r.requestsPerSecByRound.join(', ')} | ${r.requests.toLocaleString('en-US')} | ${r.non2xx} | ${r.errors} |`,
    ),
    '',
  ].join('\n');
}
