import { FaultUpstream } from '@app/fault-upstream';
import { type IdempotencyStore, RESILIENT_LLM_IDEMPOTENCY_STORE, type ResilientLlmModuleOptions } from '@resilient-llm/nestjs';
import { MAX_IDEMPOTENT_BODY_DEPTH } from '../libs/resilient-llm/src/idempotency/idempotency-key.js';
import { ResilientLlmStorageHolder } from '../libs/resilient-llm/src/storage/storage-holder.js';
import { ManualClock } from '@resilient-llm/nestjs/testing';
import { OrdersController, idempotencyModule } from './apps/idempotency.app.js';
import { createTestSchema, skipWithoutPostgres } from './support/postgres.js';
import { HTTP_ADAPTERS, type TestApp, createTestApp } from './support/test-app.js';

const skipPostgres = await skipWithoutPostgres();

describe.each(HTTP_ADAPTERS)('@Idempotent on %s', (adapter) => {
  let upstream: FaultUpstream;
  const apps: TestApp[] = [];

  beforeEach(async () => {
    upstream = await FaultUpstream.start({ faults: { latencyMs: 30 } });
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) {
      app.app.get(OrdersController).gate.resolve();
      await app.app.close();
    }
    await upstream.stop();
  });

  async function boot(options: ResilientLlmModuleOptions = {}, clock = new ManualClock()) {
    const app = await createTestApp(
      { imports: [idempotencyModule({ client: { apiKey: 't', baseURL: upstream.baseURL }, storage: { database: ':memory:' }, scope: { header: 'x-tenant-id' }, ...options })] },
      clock,
      adapter,
    );
    apps.push(app);
    return { ...app, orders: app.app.get(OrdersController) };
  }

  const storedRecords = async (app: TestApp) =>
    (await app.app.get(ResilientLlmStorageHolder).open()).dataSource.query('SELECT state FROM resilient_llm_idempotency_record');

  it('50 concurrent identical requests with one key: 1 upstream call, 1 original, the rest 409 or the replay', async () => {
    const { http, orders } = await boot();
    const send = () => http().post('/orders').set('Idempotency-Key', 'order-1').send({ item: 'lamp' });
    const responses = await Promise.all(Array.from({ length: 50 }, send));

    expect(upstream.stats().totalRequests).toBe(1);
    expect(orders.orders).toBe(1);
    const originals = responses.filter((r) => r.status === 201 && r.headers['idempotent-replayed'] === undefined);
    expect(originals).toHaveLength(1);
    for (const response of responses) {
      if (response.status === 409) {
        expect(response.body).toMatchObject({ code: 'idempotency_request_in_progress' });
        expect(response.headers['retry-after']).toBe('1');
      } else {
        expect(response.status).toBe(201);
        expect(response.text).toBe(originals[0].text);
      }
    }

    // After completion every repeat is the byte-identical replay, Location header included.
    for (let repeat = 0; repeat < 5; repeat++) {
      const replay = await send().expect(201);
      expect(replay.text).toBe(originals[0].text);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.headers.location).toBe('/orders/1');
    }
    expect(upstream.stats().totalRequests).toBe(1);
  });

  it('passes a key upstream, derived from the caller and stable across retries', async () => {
    const { http } = await boot();
    upstream.setFaults({ sequence: ['503', 'ok'] });
    await http().post('/orders').set('Idempotency-Key', 'order-2').send({ item: 'desk' }).expect(201);
    const keys = Object.entries(upstream.stats().idempotencyKeys);
    expect(keys).toEqual([[expect.stringMatching(/^rllm-[0-9a-f]{32}-1$/), 2]]);
    expect(keys[0][0]).not.toContain('order-2');
  });

  it('same key with a different body: 422, the upstream is not called', async () => {
    const { http } = await boot();
    await http().post('/orders').set('Idempotency-Key', 'k').send({ item: 'lamp' }).expect(201);
    const mismatch = await http().post('/orders').set('Idempotency-Key', 'k').send({ item: 'sofa' }).expect(422);
    expect(mismatch.body).toMatchObject({ statusCode: 422, code: 'idempotency_key_reused' });
    expect(upstream.stats().totalRequests).toBe(1);
  });

  it("tenant B reusing tenant A's key runs as a new request and never sees A's response", async () => {
    const { http, orders } = await boot();
    const a = await http().post('/orders').set('x-tenant-id', 'tenant-a').set('Idempotency-Key', 'shared').send({ item: 'lamp' }).expect(201);
    const b = await http().post('/orders').set('x-tenant-id', 'tenant-b').set('Idempotency-Key', 'shared').send({ item: 'lamp' }).expect(201);
    expect(b.headers['idempotent-replayed']).toBeUndefined();
    expect(b.body.orderId).not.toBe(a.body.orderId);
    expect(orders.orders).toBe(2);
    expect(upstream.stats().totalRequests).toBe(2);
  });

  it('an executor that died (its lease ran out on the clock) does not block the key for ever', async () => {
    const { http, orders, clock } = await boot({ idempotency: { leaseMs: 120_000 } });
    const hung = http().post('/slow').set('Idempotency-Key', 'slow-1').then((r) => r);
    await vi.waitFor(() => expect(orders.invocations.slow).toBe(1));
    await http().post('/slow').set('Idempotency-Key', 'slow-1').expect(409);
    clock.advance(120_001);
    const takeover = http().post('/slow').set('Idempotency-Key', 'slow-1').then((r) => r);
    await vi.waitFor(() => expect(orders.invocations.slow).toBe(2));
    orders.gate.resolve();
    expect((await takeover).status).toBe(200);
    expect((await takeover).body).toEqual({ finished: 2 });
    await hung;
    // The new owner's response is the one kept.
    const replay = await http().post('/slow').set('Idempotency-Key', 'slow-1').expect(200);
    expect(replay.body).toEqual({ finished: 2 });
    expect(replay.headers['idempotent-replayed']).toBe('true');
  });

  it.each([
    ['an empty key', '', /the key is empty/],
    ['a 256-character key', 'k'.repeat(256), /256 characters long; at most 255/],
    ['a key with a control character', 'k\tey', /printable ASCII/],
  ])('refuses %s with a 400 that says why, and stores nothing', async (_, key, reason) => {
    const { http, orders } = await boot();
    const response = await http().post('/orders').set('Idempotency-Key', key).send({ item: 'lamp' }).expect(400);
    expect(response.body).toMatchObject({ statusCode: 400, code: 'idempotency_key_invalid', message: expect.stringMatching(reason) });
    expect(orders.orders).toBe(0);
    expect(await storedRecords(apps[0])).toEqual([]);
  });

  it('refuses a repeated key header (Node would join it into one "dup-a, dup-b") with a 400, and runs nothing', async () => {
    const { http, orders } = await boot();
    for (const keys of [['dup-a', 'dup-b'], ['same', 'same']]) {
      // An array goes out as one header line per value (superagent's types say so for Cookie only).
      const response = await http().post('/orders').set('Idempotency-Key', keys as unknown as string).send({ item: 'lamp' }).expect(400);
      expect(response.body).toEqual({ statusCode: 400, code: 'idempotency_key_invalid', message: 'Malformed idempotency-key header: it appears 2 times; send one key.' });
    }
    // A single header whose value holds a comma is one key, as the draft allows.
    await http().post('/orders').set('Idempotency-Key', 'dup-a, dup-b').send({ item: 'lamp' }).expect(201);
    expect(orders.orders).toBe(1);
    expect(upstream.stats().totalRequests).toBe(1);
  });

  it(`refuses a body nested past ${MAX_IDEMPOTENT_BODY_DEPTH} levels with a 400 naming the limit, also 5,000 deep, and stores nothing`, async () => {
    const { http, orders } = await boot();
    for (const depth of [MAX_IDEMPOTENT_BODY_DEPTH + 1, 5_000]) {
      const body = `{"item":"lamp","extra":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
      const response = await http().post('/orders').set('Idempotency-Key', `deep-${depth}`).set('Content-Type', 'application/json').send(body).expect(400);
      expect(response.body).toEqual({
        statusCode: 400,
        code: 'idempotency_body_too_deep',
        message: `The request body nests arrays and objects more than ${MAX_IDEMPOTENT_BODY_DEPTH} levels deep, the most an idempotent request may carry.`,
      });
    }
    expect(orders.orders).toBe(0);
    expect(await storedRecords(apps[0])).toEqual([]);
    const deepest = `{"item":"lamp","extra":${'['.repeat(MAX_IDEMPOTENT_BODY_DEPTH - 1)}${']'.repeat(MAX_IDEMPOTENT_BODY_DEPTH - 1)}}`;
    await http().post('/orders').set('Idempotency-Key', 'deepest').set('Content-Type', 'application/json').send(deepest).expect(201);
  });

  it('refuses an oversized body with a 400, and a missing key where one is required', async () => {
    const { http } = await boot({ idempotency: { maxBodyBytes: 64 } });
    const big = await http().post('/orders').set('Idempotency-Key', 'big').send({ item: 'x'.repeat(100) }).expect(400);
    expect(big.body).toMatchObject({ code: 'idempotency_body_too_large', message: expect.stringMatching(/over 64 bytes/) });
    const missing = await http().post('/required').expect(400);
    expect(missing.body).toMatchObject({ code: 'idempotency_key_missing' });
    await http().post('/required').set('Idempotency-Key', 'r').expect(200);
    expect(upstream.stats().totalRequests).toBe(0);
  });

  it('does not store 5xx outcomes: the client may retry and the handler runs again', async () => {
    const { http, orders } = await boot();
    await http().post('/unavailable').set('Idempotency-Key', 'u').expect(503);
    const again = await http().post('/unavailable').set('Idempotency-Key', 'u').expect(503);
    expect(again.headers['idempotent-replayed']).toBeUndefined();
    expect(orders.invocations.unavailable).toBe(2);
  });

  it('stores 4xx outcomes of the handler and replays them byte for byte', async () => {
    const { http, orders } = await boot();
    const first = await http().post('/rejected').set('Idempotency-Key', 'r').expect(400);
    const replay = await http().post('/rejected').set('Idempotency-Key', 'r').expect(400);
    expect(replay.text).toBe(first.text);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(orders.invocations.rejected).toBe(1);
  });

  it('does not store a refusal from before the handler ran (a validation pipe)', async () => {
    const { http, orders } = await boot();
    await http().post('/quantity').set('Idempotency-Key', 'q').send({ quantity: 'many' }).expect(400);
    expect(orders.invocations.quantity).toBeUndefined();
    // Not stored: the same key with a corrected body runs, instead of a 422.
    await http().post('/quantity').set('Idempotency-Key', 'q').send({ quantity: '3' }).expect(200, { quantity: 3 });
  });

  it('does not store streamed responses: the key is released when the stream is handed over', async () => {
    const { http, orders } = await boot();
    const first = await http().get('/export').set('Idempotency-Key', 'e').expect(200);
    const second = await http().get('/export').set('Idempotency-Key', 'e').expect(200);
    expect([String(first.body), String(second.body)]).toEqual(['export 1', 'export 2']);
    expect(second.headers['idempotent-replayed']).toBeUndefined();
    expect(orders.invocations.export).toBe(2);
  });

  it('does not store a 429 budget refusal: the key runs again once the window resets', async () => {
    const pricing = { defaultModel: 'flat', pricing: { flat: { inputUsdPerMTok: 1, outputUsdPerMTok: 1 } } };
    // What one call must hold, as the refusal of a day too small for it says: the limit it failed is
    // spent + reserved + requested (its estimate is held, the top-up for its request's worst case is not).
    const probe = await boot({ budget: { limits: { dailyUsd: 0.001 } }, ...pricing });
    const refusal = (await probe.http().post('/orders').send({ item: 'lamp' }).expect(429)).body as { spentUsd: number; reservedUsd: number; requestedUsd: number };
    const oneCallUsd = refusal.spentUsd + refusal.reservedUsd + refusal.requestedUsd;
    expect(oneCallUsd).toBeGreaterThan(0.001);

    // A day that holds one call's worst case: after one call has spent anything, the next cannot reserve.
    const { http, orders, clock } = await boot({ budget: { limits: { dailyUsd: oneCallUsd + 0.5 / 1_000_000 } }, ...pricing });
    await http().post('/orders').send({ item: 'lamp' }).expect(201);
    await http().post('/orders').set('Idempotency-Key', 'next-day').send({ item: 'lamp' }).expect(429);
    clock.advance(24 * 3_600_000);
    const tomorrow = await http().post('/orders').set('Idempotency-Key', 'next-day').send({ item: 'lamp' }).expect(201);
    expect(tomorrow.headers['idempotent-replayed']).toBeUndefined();
    expect(orders.orders).toBe(2);
  });

  it("never deletes the record of a request still running, even past its TTL", async () => {
    const { http, orders, clock } = await boot({ idempotency: { ttlMs: 1_000, leaseMs: 120_000 } });
    const running = http().post('/slow').set('Idempotency-Key', 'long').then((r) => r);
    await vi.waitFor(() => expect(orders.invocations.slow).toBe(1));
    clock.advance(2_000);
    await http().post('/slow').set('Idempotency-Key', 'long').expect(409);
    expect(orders.invocations.slow).toBe(1);
    orders.gate.resolve();
    await running;
  });

  it('records expire after their TTL and are purged', async () => {
    const { http, orders, clock, app } = await boot({ idempotency: { ttlMs: 60_000 } });
    await http().post('/orders').set('Idempotency-Key', 'purged').send({ item: 'lamp' }).expect(201);
    await http().post('/orders').set('Idempotency-Key', 'ttl').send({ item: 'lamp' }).expect(201);
    clock.advance(60_001);
    const store = app.get<IdempotencyStore>(RESILIENT_LLM_IDEMPOTENCY_STORE);
    expect(await store.purgeExpired(clock.now())).toBe(2);
    expect(await storedRecords(apps[0])).toEqual([]);
    const fresh = await http().post('/orders').set('Idempotency-Key', 'ttl').send({ item: 'lamp' }).expect(201);
    expect(fresh.headers['idempotent-replayed']).toBeUndefined();
    expect(orders.orders).toBe(3);
  });

  it('applyToUnsafeMethods makes undecorated POST handlers idempotent, their 4xx replayed like any', async () => {
    const { http, orders } = await boot({ idempotency: { applyToUnsafeMethods: true } });
    const first = await http().post('/plain-reject').set('Idempotency-Key', 'global-1').expect(400);
    const replay = await http().post('/plain-reject').set('Idempotency-Key', 'global-1').expect(400);
    expect(replay.text).toBe(first.text);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(orders.invocations['plain-reject']).toBe(1);
  });

  it('without a key the handler simply runs (the key is optional by default)', async () => {
    const { http, orders } = await boot();
    await http().post('/orders').send({ item: 'lamp' }).expect(201);
    await http().post('/orders').send({ item: 'lamp' }).expect(201);
    expect(orders.orders).toBe(2);
  });

  describe.skipIf(skipPostgres)('on PostgreSQL', () => {
    it('2 app instances sharing the store: still exactly 1 upstream call', async () => {
      const schema = await createTestSchema();
      try {
        const first = await boot({ storage: { database: schema.url } });
        const second = await boot({ storage: { database: schema.url } });
        const responses = await Promise.all(
          Array.from({ length: 40 }, (_, index) => (index % 2 ? first : second).http().post('/orders').set('Idempotency-Key', 'pg-1').send({ item: 'lamp' })),
        );
        expect(upstream.stats().totalRequests).toBe(1);
        expect(first.orders.orders + second.orders.orders).toBe(1);
        expect(responses.filter((r) => r.status === 201 && !r.headers['idempotent-replayed'])).toHaveLength(1);
        expect(responses.every((r) => r.status === 201 || r.status === 409)).toBe(true);
      } finally {
        for (const app of apps.splice(0)) await app.app.close();
        await schema.drop();
      }
    });
  });
});
