import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UNGUARDED } from './overhead/configs.js';
import { measureInChild } from './overhead/index.js';
import { defaultBenchNodes, nodeRuntimes } from './overhead/node-runtimes.js';
import { type CpuProfile, summariseProfile } from './overhead/profile-summary.js';

// `npm run bench:profile`: V8 CPU profiles of the overhead benchmark's app under load, unguarded and
// guarded, on this Node and Node 24, written to bench/results/profiles/*.cpuprofile (flame graphs in
// Chrome DevTools' Performance panel or speedscope.app) with the heaviest functions in profiles.md.
const CONFIGS = [UNGUARDED, '@Guarded, tracing off', '@Guarded + budget, SQLite file', '@Guarded, OpenTelemetry SDK (in memory)'];
const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(import.meta.dirname, 'results', 'profiles');
const slug = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
const percent = (share: number) => `${(share * 100).toFixed(1)}%`;

it('profiles the guarded path', async () => {
  await mkdir(OUT, { recursive: true });
  const dir = await mkdtemp(join(tmpdir(), 'resilient-llm-profile-'));
  const sections: string[] = [];
  try {
    for (const runtime of await nodeRuntimes(process.env.BENCH_NODES ?? defaultBenchNodes())) {
      for (const config of CONFIGS) {
        process.stderr.write(`profiling: ${runtime.version}: ${config}\n`);
        const file = join(OUT, `node${runtime.version.split('.')[0].slice(1)}-${slug(config)}.cpuprofile`);
        const base = join(dir, slug(`${runtime.version}-${config}`));
        const seconds = Number(process.env.BENCH_SECONDS ?? 5);
        const figures = await measureInChild({ config, seconds, connections: 10, sqliteFile: `${base}.sqlite`, out: `${base}.json`, cpuProfile: file }, runtime);
        const summary = summariseProfile(JSON.parse(await readFile(file, 'utf8')) as CpuProfile, `${ROOT}/`, 15);
        sections.push(
          `## ${config}, Node ${runtime.version}\n\n${Math.round(figures.requestsPerSec)} req/s while profiled; ` +
            `samples with the library on the stack: ${percent(summary.library)}; garbage collector: ${percent(summary.gc)}. ` +
            `Profile: \`bench/results/profiles/${file.split('/').at(-1)}\`.\n\n| self | on stack | function |\n| ---: | ---: | --- |\n` +
            summary.bySelf.map((line) => `| ${percent(line.selfShare)} | ${percent(line.totalShare)} | \`${line.frame}\` |`).join('\n') +
            '\n',
        );
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const header = `# CPU profiles of the guarded path\n\nMeasured ${new Date().toISOString()}: the overhead benchmark's app under autocannon (10 connections), profiled in-process (V8 sampling every 200 µs) during the measured load, not the warm-up. Figures while profiled are lower than the benchmark's.\n\n`;
  await writeFile(join(import.meta.dirname, 'results', 'profiles.md'), header + sections.join('\n'));
});
