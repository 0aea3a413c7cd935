import { FaultUpstream } from '@app/fault-upstream';
import { BudgetGuard } from '@resilient-llm/nestjs';
import { overspendModule } from './apps/overspend.app.js';
import { createTestSchema, skipWithoutPostgres } from './support/postgres.js';
import { type TestApp, createTestApp } from './support/test-app.js';

// 'flat' costs $1 per million tokens: one token is one micro-dollar. The handler estimates 1,000.
const ESTIMATE_MICRO = 1_000;
// 19 prompt tokens with OpenAI's framing (3 a message, 1 the role, 3 for the reply, 12 words), plus max_tokens 64: a request's exact worst case.
const REQUEST_WORST_MICRO = 19 + 64;
const LIMIT_MICRO = 100 * REQUEST_WORST_MICRO;
const ASK = { message: 'one two three four five six seven eight nine ten eleven twelve', maxTokens: 64 };

const STORES = [
  { name: 'SQLite', database: async () => ({ url: ':memory:', drop: async () => undefined }) },
  { name: 'PostgreSQL', database: async () => createTestSchema() },
];

/**
 * Before its body a call is checked, not charged: the money is held request by request, each
 * request's exact worst case, so a generous estimate keeps no other call out. The estimate still
 * refuses a call that what is left after spending could not hold.
 */
describe.each(STORES)('admission before the handler body, on $name', ({ name, database }) => {
  let upstream: FaultUpstream;
  let app: TestApp | undefined;
  let dropSchema: () => Promise<void> = async () => undefined;
  let skip = false;

  beforeAll(async () => {
    skip = name === 'PostgreSQL' && (await skipWithoutPostgres());
    upstream = await FaultUpstream.start();
  });
  afterEach(async () => {
    await app?.app.close();
    app = undefined;
    await dropSchema();
  });
  afterAll(() => upstream.stop());

  async function boot() {
    const store = await database();
    dropSchema = store.drop;
    app = await createTestApp({
      imports: [overspendModule({ client: { apiKey: 't', baseURL: upstream.baseURL }, budget: { limits: { dailyUsd: LIMIT_MICRO / 1_000_000 } }, storage: { database: store.url } })],
    });
    upstream.resetStats();
    return { http: app.http, guard: app.app.get(BudgetGuard) };
  }

  const window = async (guard: BudgetGuard) => (await guard.status()).windows[0];

  it('a call whose estimate exceeds what is free runs when its request fits, holding only that request', async (context) => {
    if (skip) return context.skip();
    const { http, guard } = await boot();
    // 99 requests' worst cases held elsewhere: 84 free, less than the estimate of 1,000.
    await guard.reserve({ amountMicro: LIMIT_MICRO - REQUEST_WORST_MICRO, model: 'flat' });
    await http().post('/ask').send(ASK).expect(200);
    expect(upstream.stats().totalRequests).toBe(1);
    expect(await window(guard)).toMatchObject({ reservedMicroUsd: LIMIT_MICRO - REQUEST_WORST_MICRO, spentMicroUsd: upstream.stats().servedTokens.input + upstream.stats().servedTokens.output });
  });

  it('a window whose every micro-dollar is held refuses the call before its body: 429, nothing sent', async (context) => {
    if (skip) return context.skip();
    const { http, guard } = await boot();
    await guard.reserve({ amountMicro: LIMIT_MICRO, model: 'flat' });
    const refused = await http().post('/ask').send(ASK).expect(429);
    expect(refused.body).toMatchObject({ code: 'budget_exhausted', spentUsd: 0, reservedUsd: LIMIT_MICRO / 1_000_000, requestedUsd: ESTIMATE_MICRO / 1_000_000 });
    expect(upstream.stats().totalRequests).toBe(0);
  });

  it('a window whose unspent money cannot hold the estimate refuses the call before its body, though a request would fit', async (context) => {
    if (skip) return context.skip();
    const { http, guard } = await boot();
    const spentMicro = LIMIT_MICRO - ESTIMATE_MICRO + 1;
    const earlier = await guard.reserve({ amountMicro: spentMicro, model: 'flat' });
    await guard.settle(earlier, { actualMicro: spentMicro, wasteMicro: 0, succeeded: true });
    const refused = await http().post('/ask').send(ASK).expect(429);
    expect(refused.body).toMatchObject({ code: 'budget_exhausted', spentUsd: spentMicro / 1_000_000, reservedUsd: 0 });
    expect(upstream.stats().totalRequests).toBe(0);
    expect(await window(guard)).toMatchObject({ spentMicroUsd: spentMicro, reservedMicroUsd: 0 });
  });

  it('a call admitted whose request then does not fit what is free: 429 at once, nothing sent, nothing left held', async (context) => {
    if (skip) return context.skip();
    const { http, guard } = await boot();
    await guard.reserve({ amountMicro: LIMIT_MICRO - REQUEST_WORST_MICRO + 1, model: 'flat' });
    const refused = await http().post('/ask').send(ASK).expect(429);
    expect(refused.body).toMatchObject({ code: 'budget_exhausted', requestedUsd: REQUEST_WORST_MICRO / 1_000_000 });
    expect(upstream.stats().totalRequests).toBe(0);
    expect(await window(guard)).toMatchObject({ spentMicroUsd: 0, reservedMicroUsd: LIMIT_MICRO - REQUEST_WORST_MICRO + 1 });
  });
});
