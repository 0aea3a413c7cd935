import { FaultUpstream } from '@app/fault-upstream';
import { BudgetGuard } from '@resilient-llm/nestjs';
import { ResilientLlmStorageHolder } from '../libs/resilient-llm/src/storage/storage-holder.js';
import pg from 'pg';
import { TOKENS_PER_CALL } from './apps/budget.app.js';
import { storeFaultsModule } from './apps/store-faults.app.js';
import { globalDailyLedger } from './support/ledger.js';
import { type PrivatePostgres, skipWithoutPrivatePostgres, startPrivatePostgres } from './support/private-postgres.js';
import { type TestApp, createTestApp } from './support/test-app.js';

const MAX_WAIT_MS = 500;
// Far longer than any answer may take (the store bound, an upstream call, a settlement bound):
// a request still unanswered when it ends waited for the database, which is the bug.
const PAUSE_CAP_MS = 8_000;
const CALLS_DURING_PAUSE = 6;

describe.skipIf(skipWithoutPrivatePostgres())('a PostgreSQL store that stops answering (SIGSTOP) or shuts down', () => {
  let postgres: PrivatePostgres;
  let upstream: FaultUpstream;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    postgres = await startPrivatePostgres();
  });
  afterAll(async () => {
    await postgres?.drop();
  });
  beforeEach(async () => {
    upstream = await FaultUpstream.start();
  });
  afterEach(async () => {
    postgres.resume();
    for (const app of apps.splice(0)) await app.app.close();
    await upstream.stop();
  });

  async function boot(database: string, onStoreError: 'fail-closed' | 'fail-open') {
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.end();
    const app = await createTestApp({
      imports: [
        storeFaultsModule({
          client: { apiKey: 't', baseURL: upstream.baseURL, attemptTimeoutMs: 500 },
          // A short lease only so that maintenance (which retries deferred writes) runs every second.
          backoff: { deadlineMs: 3_000 },
          budget: { limits: { dailyUsd: 1 }, onStoreError, leaseMs: 4_000 },
          storage: { database: postgres.url.replace(/\/postgres$/, `/${database}`), maxWaitMs: MAX_WAIT_MS },
        }),
      ],
    });
    apps.push(app);
    return app;
  }

  /** Calls made while the database is paused, each with when it was answered relative to the resume. */
  async function callsWhilePaused(app: TestApp, alsoWhilePaused: () => Promise<unknown> = async () => undefined) {
    let resumed = false;
    postgres.pause();
    const alongside = alsoWhilePaused();
    const cap = setTimeout(() => {
      resumed = true;
      postgres.resume();
    }, PAUSE_CAP_MS);
    try {
      return await Promise.all(
        Array.from({ length: CALLS_DURING_PAUSE }, async () => {
          const startedAt = performance.now();
          const response = await app.http().post('/ask');
          return { response, waitedMs: performance.now() - startedAt, answeredWhilePaused: !resumed };
        }),
      ).finally(() => alongside);
    } finally {
      clearTimeout(cap);
      postgres.resume();
    }
  }

  const dataSourceOf = async (app: TestApp) => (await app.app.get(ResilientLlmStorageHolder).open()).dataSource;

  async function expectConsistentLedger(app: TestApp, settledCalls: number) {
    const dataSource = await dataSourceOf(app);
    // Deferred writes (settlements, releases of reservations that landed late) are retried every second.
    await vi.waitFor(
      async () =>
        expect(await globalDailyLedger(dataSource)).toEqual({
          reservedMicro: { counters: 0, rows: 0 },
          spentMicro: { counters: settledCalls * TOKENS_PER_CALL, rows: settledCalls * TOKENS_PER_CALL },
        }),
      { timeout: 15_000, interval: 250 },
    );
  }

  it('fail-closed: every call gets 503 within the store bound while the database is paused; nothing stays held', async () => {
    const app = await boot('paused_fail_closed', 'fail-closed');
    await app.http().post('/ask').expect(200);

    // Calls are refused on the read before their body; a request's reservation (an insert) is what can land late.
    let reservation: unknown;
    const reserve = () => app.app.get(BudgetGuard).reserve({ amountMicro: TOKENS_PER_CALL, model: 'flat' }).then(() => 'held', (error: unknown) => (reservation = error));
    const calls = await callsWhilePaused(app, reserve);
    expect(reservation).toMatchObject({ status: 503 });
    if (process.env.RESILIENT_LLM_PRINT_FIGURES) console.info('fail-closed waits (ms):', calls.map((call) => Math.round(call.waitedMs)));
    for (const call of calls) {
      expect(call.answeredWhilePaused).toBe(true);
      expect(call.response.status).toBe(503);
      expect(call.response.body).toMatchObject({ code: 'budget_store_unavailable' });
      expect(call.response.headers['retry-after']).toBe('5');
    }
    expect(upstream.stats().totalRequests).toBe(1);

    await expectConsistentLedger(app, 1);
    // The reservation's insert went out on a pooled connection: it committed after the guard gave
    // up on it (at the resume), and was released by the deferred writes.
    const [landedLate] = await (await dataSourceOf(app)).query(
      `SELECT COUNT(*) AS count FROM resilient_llm_budget_reservation WHERE state = 'released' AND amount_micro > 0`,
    );
    expect(Number(landedLate.count)).toBeGreaterThanOrEqual(1);
    await app.http().post('/ask').expect(200);
    await expectConsistentLedger(app, 2);
  });

  it('fail-closed: a database that was shut down refuses calls at once, and they are taken again once it is back', async () => {
    const app = await boot('stopped_fail_closed', 'fail-closed');
    await app.http().post('/ask').expect(200);
    await postgres.stop();
    try {
      for (let call = 0; call < 3; call++) {
        const refused = await app.http().post('/ask').expect(503);
        expect(refused.body).toMatchObject({ code: 'budget_store_unavailable' });
      }
    } finally {
      await postgres.start();
    }
    expect(upstream.stats().totalRequests).toBe(1);
    // The pool dropped the connections the shutdown terminated, and opens new ones.
    await vi.waitFor(() => app.http().post('/ask').expect(200), { timeout: 10_000, interval: 250 });
    await expectConsistentLedger(app, 2);
  });

  it('fail-open: every call is served while the database is paused, and its spend is recorded once it is back', async () => {
    const app = await boot('paused_fail_open', 'fail-open');
    await app.http().post('/ask').expect(200);

    const calls = await callsWhilePaused(app);
    if (process.env.RESILIENT_LLM_PRINT_FIGURES) console.info('fail-open waits (ms):', calls.map((call) => Math.round(call.waitedMs)));
    for (const call of calls) {
      expect(call.answeredWhilePaused).toBe(true);
      expect(call.response.status).toBe(200);
    }
    expect(upstream.stats().totalRequests).toBe(1 + CALLS_DURING_PAUSE);

    await expectConsistentLedger(app, 1 + CALLS_DURING_PAUSE);
  });
});
