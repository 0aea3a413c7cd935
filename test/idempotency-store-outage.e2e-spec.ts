import { FaultUpstream } from '@app/fault-upstream';
import type { ResilientLlmModuleOptions } from '@resilient-llm/nestjs';
import Database from 'better-sqlite3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OrdersController, idempotencyModule } from './apps/idempotency.app.js';
import { HTTP_ADAPTERS, type TestApp, createTestApp } from './support/test-app.js';

/**
 * The idempotency store really failing: the SQLite file locked by another connection, or its
 * table gone. A request with a key is refused with 503 (running it without its record could run
 * it twice); a success already produced is never turned into an error.
 */
describe.each(HTTP_ADAPTERS.flatMap((adapter) => (['fail-closed', 'fail-open'] as const).map((onStoreError) => ({ adapter, onStoreError }))))(
  'idempotency store outage on $adapter (budget.onStoreError: $onStoreError)',
  ({ adapter, onStoreError }) => {
  let upstream: FaultUpstream;
  let dir: string;
  let database: string;
  const apps: TestApp[] = [];

  beforeEach(async () => {
    upstream = await FaultUpstream.start();
    dir = await mkdtemp(join(tmpdir(), 'resilient-llm-idempotency-outage-'));
    database = join(dir, 'store.sqlite');
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) {
      app.app.get(OrdersController).gate.resolve();
      await app.app.close();
    }
    await upstream.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function boot() {
    const options: ResilientLlmModuleOptions = {
      client: { apiKey: 't', baseURL: upstream.baseURL },
      budget: { limits: { dailyUsd: 1 }, onStoreError },
      storage: { database, sqliteBusyTimeoutMs: 50 },
      scope: { header: 'x-tenant-id' },
    };
    const app = await createTestApp({ imports: [idempotencyModule(options)] }, undefined, adapter);
    apps.push(app);
    return { ...app, orders: app.app.get(OrdersController) };
  }

  /** A second connection holding the write lock, as another process would. */
  function lockDatabase() {
    const locker = new Database(database);
    locker.exec('BEGIN EXCLUSIVE');
    return () => {
      locker.exec('ROLLBACK');
      locker.close();
    };
  }

  const expectStoreUnavailable = (response: { status: number; body: unknown; headers: Record<string, string>; text: string }) => {
    expect(response.status).toBe(503);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.headers['retry-after']).toBe('5');
    expect(response.body).toEqual({
      statusCode: 503,
      code: 'idempotency_store_unavailable',
      message: expect.stringMatching(/idempotency store is unavailable.*Retry with the same key/),
    });
    expect(response.text).not.toMatch(/locked|sqlite|SQLITE|no such table/);
  };

  it('while the store is locked, every keyed request gets 503 with Retry-After and runs nothing; once it is back the same key runs once', async () => {
    const { http, orders } = await boot();
    const unlock = lockDatabase();
    try {
      const responses = await Promise.all(
        Array.from({ length: 12 }, (_, index) => http().post('/orders').set('Idempotency-Key', `outage-${index % 4}`).send({ item: 'lamp' })),
      );
      for (const response of responses) expectStoreUnavailable(response);
      expect(orders.invocations.orders).toBeUndefined();
      expect(upstream.stats().totalRequests).toBe(0);
    } finally {
      unlock();
    }

    const first = await http().post('/orders').set('Idempotency-Key', 'outage-0').send({ item: 'lamp' }).expect(201);
    const replay = await http().post('/orders').set('Idempotency-Key', 'outage-0').send({ item: 'lamp' }).expect(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.text).toBe(first.text);
    expect(orders.orders).toBe(1);
    expect(upstream.stats().totalRequests).toBe(1);
  });

  it('while the idempotency table is missing, keyed requests get 503; once it is back they work', async () => {
    const { http, orders } = await boot();
    await http().post('/required').set('Idempotency-Key', 'before').expect(200);
    const admin = new Database(database);
    admin.exec('ALTER TABLE resilient_llm_idempotency_record RENAME TO idempotency_record_away');
    try {
      expectStoreUnavailable(await http().post('/required').set('Idempotency-Key', 'during'));
      expectStoreUnavailable(await http().post('/required').set('Idempotency-Key', 'before'));
      expect(orders.invocations.required).toBe(1);
    } finally {
      admin.exec('ALTER TABLE idempotency_record_away RENAME TO resilient_llm_idempotency_record');
      admin.close();
    }
    await http().post('/required').set('Idempotency-Key', 'during').expect(200, { ok: true });
    const replay = await http().post('/required').set('Idempotency-Key', 'before').expect(200, { ok: true });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(orders.invocations.required).toBe(2);
  });

  it('a store failure after the handler succeeded does not turn its response into an error', async () => {
    const { http, orders } = await boot();
    const running = http().post('/slow').set('Idempotency-Key', 'slow-outage').then((response) => response);
    await vi.waitFor(() => expect(orders.invocations.slow).toBe(1));
    // The key is taken; the outcome cannot be stored.
    const unlock = lockDatabase();
    try {
      orders.gate.resolve();
      const response = await running;
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ finished: 1 });
    } finally {
      unlock();
    }
    // Not stored, so the key stays in progress until its lease ends (a 409, never a second run).
    const repeat = await http().post('/slow').set('Idempotency-Key', 'slow-outage').expect(409);
    expect(repeat.body).toMatchObject({ code: 'idempotency_request_in_progress' });
    expect(orders.invocations.slow).toBe(1);
  });
});
