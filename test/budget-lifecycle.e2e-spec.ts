import { FaultUpstream } from '@app/fault-upstream';
import { ForbiddenException } from '@nestjs/common';
import { BudgetGuard, type BudgetViewOptions, ResilientLlmClient, type ResilientLlmModuleOptions } from '@resilient-llm/nestjs';
import { ManualClock } from '@resilient-llm/nestjs/testing';
import Database from 'better-sqlite3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOKENS_PER_CALL, budgetModule } from './apps/budget.app.js';
import { type TestApp, createTestApp } from './support/test-app.js';

const usd = (calls: number) => (calls * TOKENS_PER_CALL) / 1_000_000;

describe('BudgetGuard over time, restarts and failures', () => {
  let upstream: FaultUpstream;
  let dir: string;
  const apps: TestApp[] = [];

  beforeEach(async () => {
    upstream = await FaultUpstream.start();
    dir = await mkdtemp(join(tmpdir(), 'resilient-llm-budget-'));
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.app.close();
    await upstream.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function boot(options: ResilientLlmModuleOptions, clock = new ManualClock(), extras: { budgetView?: boolean | BudgetViewOptions } = {}) {
    const app = await createTestApp(
      { imports: [budgetModule({ client: { apiKey: 't', baseURL: upstream.baseURL, attemptTimeoutMs: 200 }, storage: { database: ':memory:' }, ...options }, extras)] },
      clock,
    );
    apps.push(app);
    return app;
  }

  it('keeps spend across a restart of the module (SQLite file)', async () => {
    const database = join(dir, 'budget.sqlite');
    const first = await boot({ budget: { limits: { dailyUsd: usd(3) } }, storage: { database } });
    await first.http().post('/ask').expect(200);
    await first.http().post('/ask').expect(200);
    await first.app.close();
    apps.length = 0;

    const second = await boot({ budget: { limits: { dailyUsd: usd(3) } }, storage: { database } }, first.clock);
    const status = await second.app.get(BudgetGuard).status();
    expect(status.windows[0]).toMatchObject({ window: 'daily', spentMicroUsd: 2 * TOKENS_PER_CALL, reservedMicroUsd: 0 });
    await second.http().post('/ask').expect(200);
    await second.http().post('/ask').expect(429);
    expect(upstream.stats().totalRequests).toBe(3);
  });

  it('rolls the daily window over at midnight in the configured time zone', async () => {
    // 23:59 on 26 November in New York is 04:59 UTC on the 27th.
    const clock = new ManualClock(Date.UTC(2026, 10, 27, 4, 59));
    const app = await boot({ budget: { limits: { dailyUsd: usd(1) }, timeZone: 'America/New_York' } }, clock);
    await app.http().post('/ask').expect(200);
    const refused = await app.http().post('/ask').expect(429);
    expect(refused.body.resetsAt).toBe('2026-11-27T05:00:00.000Z');
    expect(refused.headers['retry-after']).toBe('60');

    clock.advance(61_000);
    await app.http().post('/ask').expect(200);
    const status = await app.app.get(BudgetGuard).status();
    expect(status.windows[0]).toMatchObject({ period: '2026-11-27', spentMicroUsd: TOKENS_PER_CALL });
  });

  it("gives back an expired reservation's money (a process that died holding it)", async () => {
    const app = await boot({ budget: { limits: { dailyUsd: usd(2) }, leaseMs: 120_000 } });
    const guard = app.app.get(BudgetGuard);
    // A crashed process: reserved everything, never settled.
    await guard.reserve({ amountMicro: usd(2) * 1_000_000, model: 'flat' });
    await app.http().post('/ask').expect(429);
    app.clock.advance(120_001);
    await app.http().post('/ask').expect(200);
    expect((await guard.status()).windows[0]).toMatchObject({ spentMicroUsd: TOKENS_PER_CALL, reservedMicroUsd: 0 });
  });

  it('a critical window puts the call in strict mode: fewer attempts, the fallback model', async () => {
    // 4 calls fit; after 3 the 4th reservation reaches 100% >= critical (80%).
    const app = await boot({ budget: { limits: { dailyUsd: usd(5) }, strict: { fallbackModel: 'flat-cheap' } } });
    for (let call = 0; call < 3; call++) await app.http().post('/ask').expect(200);
    expect(upstream.stats().byModel).toEqual({ flat: 3 });
    upstream.setFaults({ rates: { '503': 1 } });
    await app.http().post('/ask').expect(503);
    // Strict mode allows 2 attempts (instead of 3), with the cheaper model.
    expect(upstream.stats().byModel).toEqual({ flat: 3, 'flat-cheap': 2 });
  });

  it('pays for each retry: timed-out attempts are charged, and no retry runs past the limit', async () => {
    // Room for 2 attempts' worth; each timed-out attempt is charged its estimate.
    const app = await boot({ budget: { limits: { dailyUsd: usd(2) } }, backoff: { maxAttempts: 5 } });
    upstream.setFaults({ sequence: ['timeout', 'timeout', 'ok'] });
    const response = await app.http().post('/ask').expect(429);
    expect(response.body.message).toMatch(/Stopped retrying after 2 failed attempt/);
    await vi.waitFor(() => expect(upstream.stats().byOutcome).toEqual({ timeout: 2 }));
    const [window] = (await app.app.get(BudgetGuard).status()).windows;
    expect(window).toMatchObject({ spentMicroUsd: 2 * TOKENS_PER_CALL, wasteMicroUsd: 2 * TOKENS_PER_CALL, reservedMicroUsd: 0 });
  });

  it('fails closed when the SQLite store is locked: 503, no upstream call, nothing lost when it is back', async () => {
    const database = join(dir, 'locked.sqlite');
    const app = await boot({ budget: { limits: { dailyUsd: usd(5) } }, storage: { database, sqliteBusyTimeoutMs: 50 } });
    await app.http().post('/ask').expect(200);
    const locker = new Database(database);
    locker.exec('BEGIN EXCLUSIVE');
    const refused = await app.http().post('/ask').expect(503);
    expect(refused.body).toMatchObject({ code: 'budget_store_unavailable' });
    expect(refused.text).not.toMatch(/locked|sqlite|SQLITE/);
    expect(upstream.stats().totalRequests).toBe(1);
    locker.exec('ROLLBACK');
    locker.close();
    await app.http().post('/ask').expect(200);
    expect((await app.app.get(BudgetGuard).status()).windows[0]).toMatchObject({ spentMicroUsd: 2 * TOKENS_PER_CALL, reservedMicroUsd: 0 });
  });

  it('fail-open admits the call while the store is locked and records its spend once it is back', async () => {
    const database = join(dir, 'open.sqlite');
    const app = await boot({ budget: { limits: { dailyUsd: usd(5) }, onStoreError: 'fail-open' }, storage: { database, sqliteBusyTimeoutMs: 50 } });
    const locker = new Database(database);
    locker.exec('BEGIN EXCLUSIVE');
    await app.http().post('/ask').expect(200);
    expect(upstream.stats().totalRequests).toBe(1);
    locker.exec('ROLLBACK');
    locker.close();
    await app.app.close(); // shutdown retries the pending settlement
    const check = new Database(database, { readonly: true });
    const row = check.prepare('SELECT spent_micro, reserved_micro FROM resilient_llm_budget_window').get();
    check.close();
    expect(row).toEqual({ spent_micro: TOKENS_PER_CALL, reserved_micro: 0 });
  });

  it('reserves a stream on its max_tokens and settles on what was streamed, also when the reader stops early', async () => {
    const app = await boot({ budget: { limits: { dailyUsd: 1 } } });
    const client = app.app.get(ResilientLlmClient);
    const guard = app.app.get(BudgetGuard);
    const messages = [{ role: 'user' as const, content: 'Hello' }];

    // One event at a time on the wire, so that what was read is what the upstream had sent.
    upstream.setFaults({ streamChunkDelayMs: 20 });
    const stream = await client.streamChatCompletion({ model: 'flat', messages, max_tokens: 50 });
    // Held while the stream is open: prompt tokens (8, counted) + max_tokens (50) at $1/MTok.
    expect((await guard.status()).windows[0]).toMatchObject({ reservedMicroUsd: 58, spentMicroUsd: 0 });
    let chunks = 0;
    for await (const chunk of stream) {
      void chunk;
      if (++chunks === 4) break; // role chunk + 3 words, then the reader goes away
    }
    // Settled on what was read: 8 prompt tokens (counted, no usage came) + 3 streamed tokens.
    await vi.waitFor(async () => expect((await guard.status()).windows[0]).toMatchObject({ reservedMicroUsd: 0, spentMicroUsd: 11 }));

    for await (const chunk of await client.streamChatCompletion({ model: 'flat', messages, max_tokens: 50 })) void chunk;
    // Read to the end: the reported usage, 8 + 24.
    await vi.waitFor(async () => expect((await guard.status()).windows[0]).toMatchObject({ reservedMicroUsd: 0, spentMicroUsd: 11 + 32 }));
  });

  it('keeps a budget per scope key, inside the global one', async () => {
    const app = await boot({
      budget: { limits: { dailyUsd: usd(10) }, scopeLimits: { dailyUsd: usd(1) }, scopeOverrides: { big: { dailyUsd: usd(5) } } },
      scope: { header: 'x-tenant-id' },
    });
    await app.http().post('/ask').set('x-tenant-id', 'small').expect(200);
    const refused = await app.http().post('/ask').set('x-tenant-id', 'small').expect(429);
    expect(refused.body).toMatchObject({ scope: 'small', window: 'daily' });
    for (let call = 0; call < 5; call++) await app.http().post('/ask').set('x-tenant-id', 'big').expect(200);
    await app.http().post('/ask').set('x-tenant-id', 'big').expect(429);
    await app.http().post('/ask').set('x-tenant-id', 'bad key').expect(400);
    const global = await app.app.get(BudgetGuard).status();
    expect(global.windows[0]).toMatchObject({ scope: 'global', spentMicroUsd: 6 * TOKENS_PER_CALL });
    expect(upstream.stats().totalRequests).toBe(6);
  });

  it('serves the read-only budget view only when enabled', async () => {
    const app = await boot({ budget: { limits: { dailyUsd: usd(4), monthlyUsd: usd(100) } }, scope: { header: 'x-tenant-id' } }, new ManualClock(), {
      budgetView: { showGlobal: true },
    });
    await app.http().post('/ask').expect(200);
    const view = await app.http().get('/resilient-llm/budget').expect(200);
    expect(view.body.global).toMatchObject({ scope: 'global', state: 'healthy' });
    expect(view.body.global.windows.map((w: { window: string; spentMicroUsd: number; ratio: number }) => [w.window, w.spentMicroUsd, w.ratio])).toEqual([
      ['daily', 32, 0.25],
      ['monthly', 32, 0.01],
    ]);
    await app.http().get('/resilient-llm/budget?scope=%01').expect(400);

    const hidden = await boot({ budget: { limits: { dailyUsd: 1 } } });
    await hidden.http().get('/resilient-llm/budget').expect(404);
  });

  it('the budget view can be protected by guards', async () => {
    const denyAll = {
      canActivate: () => {
        throw new ForbiddenException();
      },
    };
    const app = await boot({ budget: { limits: { dailyUsd: 1 } } }, new ManualClock(), { budgetView: { guards: [denyAll] } });
    await app.http().get('/resilient-llm/budget').expect(403);
  });
});
