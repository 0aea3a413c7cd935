import { FaultUpstream } from '@app/fault-upstream';
import { BudgetGuard } from '@resilient-llm/nestjs';
import { type BudgetExhaustedBody } from '../libs/resilient-llm/src/budget/budget-exhausted.exception.js';
import { overspendModule } from './apps/overspend.app.js';
import { HTTP_ADAPTERS, type TestApp, createTestApp } from './support/test-app.js';

const TENANTS = ['acme', 'globex'];
const PER_TENANT = 300;
// A call holds 1,000 micro-dollars (@Guarded(1000) at $1/MTok) and spends 32 ('Hello' with max_tokens 24):
// money held comes back as calls settle, so a window that refused a call a moment ago may show room now.
const HELD = 1_000;
const SPENT = 32;
// Each tenant's daily window holds 10 calls at once; the global one holds all of them.
const TENANT_LIMIT = 10 * HELD;
const micro = (usd: number) => Math.round(usd * 1_000_000);
// The ManualClock starts at 2026-01-01T00:00Z: the daily window resets a day later.
const RESETS_AT = '2026-01-02T00:00:00.000Z';

/**
 * 2 tenants x 300 concurrent calls against tenant windows that bind: each 429 names the window
 * that refused the call (the tenant's own, not "global"), with the figures the atomic check saw,
 * which show why (spent + reserved + requested > limit), and Retry-After until that window resets.
 * On SQLite; PostgreSQL's trigger reports refusals alike (checked by test/budget-store-leases.e2e-spec.ts).
 */
describe.each(HTTP_ADAPTERS)('which window refused, under concurrency, on %s', (adapter) => {
  let upstream: FaultUpstream;
  let app: TestApp | undefined;

  beforeAll(async () => {
    upstream = await FaultUpstream.start({ faults: { latencyMs: 5 } });
  });
  afterAll(() => upstream.stop());
  afterEach(async () => {
    await app?.app.close();
  });

  it("every 429 names the caller's window, with the figures that refused it", async () => {
    app = await createTestApp(
      {
        imports: [
          overspendModule({
            client: { apiKey: 't', baseURL: upstream.baseURL },
            budget: { limits: { dailyUsd: 1 }, scopeLimits: { dailyUsd: TENANT_LIMIT / 1_000_000 } },
            scope: { header: 'x-tenant-id' },
            storage: { database: ':memory:' },
          }),
        ],
      },
      undefined,
      adapter,
    );
    const requests = TENANTS.flatMap((tenant) => Array.from({ length: PER_TENANT }, () => ({ tenant, answer: app!.http().post('/ask').set('x-tenant-id', tenant).send({ message: 'Hello', maxTokens: 24 }) })));
    const answers = await Promise.all(requests.map(async ({ tenant, answer }) => ({ tenant, response: await answer })));

    const guard = app.app.get(BudgetGuard);
    for (const tenant of TENANTS) {
      const mine = answers.filter((answer) => answer.tenant === tenant);
      const passed = mine.filter(({ response }) => response.status === 200).length;
      const refused = mine.filter(({ response }) => response.status === 429);
      expect(passed + refused.length).toBe(PER_TENANT);
      expect(passed).toBeGreaterThanOrEqual(10);
      expect(refused.length).toBeGreaterThan(0);
      for (const { response } of refused) {
        const body = response.body as BudgetExhaustedBody;
        expect(body).toMatchObject({ code: 'budget_exhausted', scope: tenant, window: 'daily', resetsAt: RESETS_AT });
        expect(micro(body.limitUsd)).toBe(TENANT_LIMIT);
        expect(micro(body.spentUsd) + micro(body.reservedUsd) + micro(body.requestedUsd)).toBeGreaterThan(micro(body.limitUsd));
        expect(response.headers['retry-after']).toBe(String(24 * 3_600));
      }
      const [, window] = (await guard.status(tenant)).windows;
      expect(window).toMatchObject({ scope: tenant, spentMicroUsd: passed * SPENT, reservedMicroUsd: 0 });
      console.info(`${adapter}, ${tenant}: ${passed} passed, ${refused.length} refused, each naming ${tenant}'s daily window`);
    }
  });
});
