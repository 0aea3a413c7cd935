import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SERVER_DIRS = '/usr/lib/postgresql';

/** A PostgreSQL cluster of one test's own (Debian's postgresql-common), which it may pause and stop. */
export interface PrivatePostgres {
  url: string;
  /** SIGSTOP to the postmaster and every backend: connections stay open, nothing answers. */
  pause(): void;
  /** SIGCONT to what `pause` stopped. */
  resume(): void;
  /** Shuts the server down (fast mode: sessions are terminated), and starts it again. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Resumes it if paused, stops it and deletes it. */
  drop(): Promise<void>;
}

const onPath = (tool: string) => (process.env.PATH ?? '').split(delimiter).some((dir) => existsSync(join(dir, tool)));

/** The newest server version installed (`/usr/lib/postgresql/<version>/bin/postgres`). */
function serverVersion(): string | undefined {
  if (!existsSync(SERVER_DIRS)) return undefined;
  return readdirSync(SERVER_DIRS)
    .filter((version) => existsSync(join(SERVER_DIRS, version, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a))[0];
}

/** Why no private cluster can be made here, or undefined when one can. */
function missingTools(): string | undefined {
  if (!['pg_createcluster', 'pg_ctlcluster', 'pg_dropcluster'].every(onPath)) return 'pg_createcluster/pg_ctlcluster/pg_dropcluster (postgresql-common) are not installed';
  if (!serverVersion()) return `no PostgreSQL server under ${SERVER_DIRS}`;
  if (process.getuid?.() !== 0) return 'pg_createcluster needs root';
  return undefined;
}

/** Skip only outside CI, with a notice; in CI a missing tool makes the tests fail instead. */
export function skipWithoutPrivatePostgres(): boolean {
  const missing = missingTools();
  if (!missing || process.env.CI) return false;
  console.warn(`NOTICE: ${missing}; skipping the tests that pause a PostgreSQL of their own (they run in CI).`);
  return true;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The backends (and auxiliary processes) the postmaster forked. */
function childrenOf(parent: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent) children.push(Number(entry));
    } catch {
      // The process ended meanwhile.
    }
  }
  return children;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Clusters left behind by test processes that were killed before their cleanup ran. */
async function dropAbandonedClusters(): Promise<void> {
  const { stdout } = await run('pg_lsclusters', ['--no-header']);
  for (const line of stdout.split('\n')) {
    const [version, name] = line.trim().split(/\s+/);
    const owner = /^rl_fault_(\d+)_/.exec(name ?? '')?.[1];
    if (owner && !alive(Number(owner))) await run('pg_dropcluster', ['--stop', version, name]).catch(() => undefined);
  }
}

/** Creates and starts a throwaway cluster on a free port, trust auth on 127.0.0.1 (a few seconds). */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  await dropAbandonedClusters();
  const version = serverVersion()!;
  const name = `rl_fault_${process.pid}_${randomBytes(3).toString('hex')}`;
  const port = await freePort();
  const options = ['-o', 'fsync=off', '-o', 'synchronous_commit=off'];
  try {
    await run('pg_createcluster', ['-p', String(port), '--start', ...options, version, name, '--', '--auth=trust', '--no-sync']);
  } catch (error) {
    await run('pg_dropcluster', ['--stop', version, name]).catch(() => undefined);
    throw error;
  }
  const dataDir = join('/var/lib/postgresql', version, name);
  const postmasterPid = () => Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  let stopped: number[] = [];
  const signal = (pids: number[], name: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(pid, name);
      } catch {
        // The process ended meanwhile.
      }
    }
  };
  const resume = () => {
    signal(stopped, 'SIGCONT');
    stopped = [];
  };
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    pause: () => {
      // The postmaster first, so that it forks nothing new while its children are stopped.
      const postmaster = postmasterPid();
      signal([postmaster], 'SIGSTOP');
      stopped = [postmaster, ...childrenOf(postmaster)];
      signal(stopped.slice(1), 'SIGSTOP');
    },
    resume,
    stop: async () => void (await run('pg_ctlcluster', [version, name, 'stop', '-m', 'fast'])),
    start: async () => void (await run('pg_ctlcluster', [version, name, 'start'])),
    drop: async () => {
      resume();
      await run('pg_dropcluster', ['--stop', version, name]);
    },
  };
}
