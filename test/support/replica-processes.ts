import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { build } from 'vite';

const root = resolve(import.meta.dirname, '../..');
const ENTRY = 'test/processes/budget-replica.ts';

export interface ReplicaBundle {
  file: string;
  remove: () => Promise<void>;
}

/**
 * Bundles the replica app once, transformed as the tests are (tsconfig paths, decorator metadata
 * for Nest's injection), into node_modules/.cache so that its packages resolve: each process
 * then starts in a second instead of transforming the library again.
 */
export async function buildReplica(): Promise<ReplicaBundle> {
  const outDir = join(root, 'node_modules/.cache/resilient-llm-tests', `replica-${randomBytes(6).toString('hex')}`);
  await build({
    configFile: false,
    root,
    logLevel: 'warn',
    resolve: { tsconfigPaths: true },
    build: { ssr: ENTRY, outDir, emptyOutDir: true, minify: false, sourcemap: false, rollupOptions: { output: { format: 'es', entryFileNames: 'replica.mjs' } } },
    ssr: { noExternal: [/^@resilient-llm\//, /^@app\//] },
  });
  return { file: join(outDir, 'replica.mjs'), remove: () => rm(outDir, { recursive: true, force: true }) };
}

export interface ReplicaProcess {
  child: ChildProcess;
  url: string;
  /** Resolves when the process has exited, however. */
  exited: Promise<unknown>;
}

/** Starts the budget app as an OS process of its own; resolves once it listens. */
export async function startReplica(bundle: ReplicaBundle, env: { UPSTREAM_URL: string; LEDGER: string; DAILY_USD?: string; ESCROW?: string }, bootTimeoutMs = 60_000): Promise<ReplicaProcess> {
  const child = spawn(process.execPath, [bundle.file], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  let output = '';
  const port = await new Promise<number>((ready, failed) => {
    const timer = setTimeout(() => failed(new Error(`a replica did not start within ${bootTimeoutMs} ms: ${output}`)), bootTimeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /READY (\d+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      ready(Number(match[1]));
    });
    void exited.then(() => {
      clearTimeout(timer);
      failed(new Error(`a replica exited before it listened: ${output}`));
    });
  });
  return { child, url: `http://127.0.0.1:${port}`, exited };
}

/** Stops a replica for good (it may be dead already). */
export async function stopReplica(replica: ReplicaProcess | undefined): Promise<void> {
  if (!replica || replica.child.exitCode !== null || replica.child.signalCode !== null) return;
  replica.child.kill('SIGKILL');
  await replica.exited;
}

/** Stops a replica with SIGTERM, so that its shutdown hooks run, and waits for it to exit. */
export async function stopReplicaGracefully(replica: ReplicaProcess): Promise<void> {
  if (replica.child.exitCode !== null || replica.child.signalCode !== null) return;
  replica.child.kill('SIGTERM');
  await replica.exited;
}
