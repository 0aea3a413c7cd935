import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';

const root = resolve(import.meta.dirname, '..');

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

/**
 * The example app as a real process: SIGTERM while a guarded call sleeps out a 20 s
 * Retry-After. With `enableShutdownHooks()` the call stops retrying at once, answers 503 with
 * Retry-After, and settles its reservation before the process exits.
 */
describe('graceful shutdown of a process with a guarded call in flight', () => {
  let dir: string;
  let app: ChildProcess | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'resilient-llm-shutdown-'));
    // Built as `npm run build` builds it (tsx would not emit the decorator metadata Nest injects by).
    await promisify(execFile)(process.execPath, [join(root, 'node_modules/@nestjs/cli/bin/nest.js'), 'build'], { cwd: root });
  });
  afterAll(async () => {
    app?.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('SIGTERM during a Retry-After: 20 backoff: 503 with Retry-After, exit within 2 s, nothing held', async () => {
    const [port, upstreamPort] = [await freePort(), await freePort()];
    const database = join(dir, 'ledger.sqlite');
    app = spawn(process.execPath, ['dist/main.js'], {
      cwd: root,
      env: {
        ...process.env,
        PORT: String(port),
        UPSTREAM_PORT: String(upstreamPort),
        UPSTREAM_FAULTS: JSON.stringify({ sequence: ['503:retry-after=20', 'ok'] }),
        RESILIENT_LLM_DB: database,
        BUDGET_DAILY_USD: '1',
        OTEL_SDK_DISABLED: 'true',
        OPENAI_API_KEY: '',
      },
      stdio: 'ignore',
    });
    const exited = once(app, 'exit');
    await waitFor(async () => ((await fetch(`http://127.0.0.1:${upstreamPort}/_upstream/stats`)).ok ? true : undefined), 'the upstream to boot');
    // The embedded upstream listens before the app does: any answer from the app's port (a 404) says it listens too.
    await waitFor(async () => ((await fetch(`http://127.0.0.1:${port}/`)).status > 0 ? true : undefined), 'the app to listen');

    let earlyAnswer: string | undefined;
    const answer = fetch(`http://127.0.0.1:${port}/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'Hello' }),
    });
    // An answer before the first attempt is a failure to report as it is, not a wait until the timeout.
    void answer.then(async (early) => (earlyAnswer ??= `${early.status} ${await early.clone().text()}`)).catch((error: Error) => (earlyAnswer ??= error.message));
    // The first attempt got its 503 with Retry-After: 20; the call now sleeps.
    const first = await waitFor(async () => {
      if (earlyAnswer !== undefined) return `answered before any attempt: ${earlyAnswer}`;
      return (await (await fetch(`http://127.0.0.1:${upstreamPort}/_upstream/stats`)).json()).totalRequests === 1 ? 'attempted' : undefined;
    }, 'the first attempt');
    expect(first).toBe('attempted');

    const signalledAt = Date.now();
    app.kill('SIGTERM');
    const response = await answer;
    const [code, signal] = await exited;
    const exitMs = Date.now() - signalledAt;

    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await response.json()).toMatchObject({ code: 'shutting_down' });
    // Nest closes the app, then re-raises the signal it caught: a clean exit by SIGTERM.
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGTERM' });
    expect(exitMs).toBeLessThan(2_000);

    const ledger = new Database(database, { readonly: true });
    try {
      expect(ledger.prepare('SELECT SUM(reserved_micro) AS reserved FROM resilient_llm_budget_window').get()).toEqual({ reserved: 0 });
      expect(ledger.prepare("SELECT COUNT(*) AS held FROM resilient_llm_budget_reservation WHERE state = 'held'").get()).toEqual({ held: 0 });
    } finally {
      ledger.close();
    }
  }, 90_000);
});
