import { FaultUpstream } from '@app/fault-upstream';
import { Logger } from '@nestjs/common';
import { type ResilientLlmModuleOptions } from '@resilient-llm/nestjs';
import { ResilientLlmStorageHolder } from '../libs/resilient-llm/src/storage/storage-holder.js';
import Database from 'better-sqlite3';
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOKENS_PER_CALL } from './apps/budget.app.js';
import { storeFaultsModule } from './apps/store-faults.app.js';
import { watchEventLoop } from './support/event-loop-stall.js';
import { watchSqliteCalls } from './support/sqlite-blocking.js';
import { globalDailyLedger } from './support/ledger.js';
import { lockInAnotherProcess } from './support/sqlite-locker.js';
import { HTTP_ADAPTERS, type TestApp, createTestApp } from './support/test-app.js';

// A lock wait that would show as a stall if it blocked the event loop, far above any GC pause or scheduling delay.
const LOCK_WAIT_MS = 1_000;
// Far above a busy-timeout retry (about 5 ms), far below the old synchronous wait (the whole lock wait):
// the test tells the two apart on any machine; the real figures are bench:store-lock's.
const SQLITE_CALL_LIMIT_MS = LOCK_WAIT_MS / 4;

describe.each(HTTP_ADAPTERS)('an SQLite store under faults from outside the process, on %s', (adapter) => {
  let upstream: FaultUpstream;
  let dir: string;
  let database: string;
  const apps: TestApp[] = [];

  beforeEach(async () => {
    upstream = await FaultUpstream.start();
    dir = mkdtempSync(join(tmpdir(), 'resilient-llm-faults-'));
    database = join(dir, 'ledger.sqlite');
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const app of apps.splice(0)) await app.app.close();
    await upstream.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function boot(budget: ResilientLlmModuleOptions['budget'] = {}) {
    const app = await createTestApp({
      imports: [
        storeFaultsModule({
          client: { apiKey: 't', baseURL: upstream.baseURL, attemptTimeoutMs: 500 },
          budget: { limits: { dailyUsd: 1 }, ...budget },
          storage: { database, maxWaitMs: LOCK_WAIT_MS },
        }),
      ],
    }, undefined, adapter);
    apps.push(app);
    return app;
  }

  const dataSourceOf = async (app: TestApp) => (await app.app.get(ResilientLlmStorageHolder).open()).dataSource;

  it("waits for another process's write lock off the event loop: 503 after the wait, /ping unaffected, ledger intact", async () => {
    const app = await boot();
    await app.http().post('/ask').expect(200);
    const locker = await lockInAnotherProcess(database);
    const loop = watchEventLoop();
    const sqlite = watchSqliteCalls();
    try {
      // Two waves, so that calls keep waiting for the lock (and retrying it) while /ping is served.
      const asks = Array.from({ length: 6 }, () => app.http().post('/ask'));
      const pings = [];
      for (let ping = 0; ping < 20; ping++) {
        pings.push(await app.http().get('/ping'));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      asks.push(...Array.from({ length: 6 }, () => app.http().post('/ask')));
      const refused = await Promise.all(asks);
      const stalls = loop.stop();
      const calls = sqlite.stop();
      if (process.env.RESILIENT_LLM_PRINT_FIGURES) console.info('SQLite lock held by another process:', stalls, calls);

      expect(pings.map((ping) => ping.status)).toEqual(pings.map(() => 200));
      for (const response of refused) {
        expect(response.status).toBe(503);
        expect(response.body).toMatchObject({ code: 'budget_store_unavailable' });
        expect(response.headers['retry-after']).toBe('5');
      }
      // The store's own share of blocking, measured call by call: independent of the machine's load.
      expect(calls.longestMs).toBeLessThan(SQLITE_CALL_LIMIT_MS);
      // Each waiting batch was tried again meanwhile (on timers, 5 to 50 ms apart), not waited for once.
      expect(calls.calls).toBeGreaterThan(2);
      // The loop as a whole: stalls include this machine's scheduling and GC, so only half a lock wait is a failure.
      expect(stalls.maxStallMs).toBeLessThan(LOCK_WAIT_MS / 2);
    } finally {
      sqlite.stop();
      loop.stop();
      await locker.release();
    }
    expect(upstream.stats().totalRequests).toBe(1);

    await app.http().post('/ask').expect(200);
    expect(await globalDailyLedger(await dataSourceOf(app))).toEqual({
      reservedMicro: { counters: 0, rows: 0 },
      spentMicro: { counters: 2 * TOKENS_PER_CALL, rows: 2 * TOKENS_PER_CALL },
    });
  });

  it('takes a call that waited for the lock as soon as the other process lets go', async () => {
    const app = await boot();
    const locker = await lockInAnotherProcess(database);
    const ask = app.http().post('/ask');
    // The call is waiting for the lock (its reservation is queued) when the other process commits.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await locker.release();
    expect((await ask).status).toBe(200);
    expect(await globalDailyLedger(await dataSourceOf(app))).toEqual({
      reservedMicro: { counters: 0, rows: 0 },
      spentMicro: { counters: TOKENS_PER_CALL, rows: TOKENS_PER_CALL },
    });
  });

  it.each([
    ['removed', () => rmSync(database)],
    [
      'replaced',
      () => {
        // What a new process on the same path does after a removal: a fresh, empty ledger.
        const fresh = join(dir, 'fresh.sqlite');
        new Database(fresh).close();
        renameSync(fresh, database);
      },
    ],
  ])('notices within one call that its file was %s: 503 naming no path, the path logged once, fail-open too', async (change, act) => {
    const errors = vi.spyOn(Logger.prototype, 'error');
    const app = await boot({ onStoreError: 'fail-open' });
    await app.http().post('/ask').expect(200);
    act();

    for (let call = 0; call < 3; call++) {
      const refused = await app.http().post('/ask').expect(503);
      expect(refused.body).toMatchObject({ code: 'budget_store_unavailable' });
      expect(refused.body.message).toMatch(/removed or replaced/);
      expect(refused.text).not.toContain(dir);
      expect(refused.headers['retry-after']).toBe('5');
    }
    expect(upstream.stats().totalRequests).toBe(1);
    const naming = errors.mock.calls.filter(([message]) => String(message).includes(`"${database}" was ${change}`));
    expect(naming.length).toBeGreaterThanOrEqual(1);
    // Once by the store; the guard logs the start of an outage once too, with the store's message.
    expect(naming.length).toBeLessThanOrEqual(2);
    await app.http().get('/ping').expect(200);
  });
});
