import { FaultUpstream } from '@app/fault-upstream';
import { HTTP_ADAPTERS, type TestApp, createTestApp, importExampleAppModule } from './support/test-app.js';

/** The example app with BUDGET_DAILY_USD set: POST /chat stops at the limit and GET /resilient-llm/budget shows it. */
describe.each(HTTP_ADAPTERS)('example app with a daily budget on %s', (adapter) => {
  let upstream: FaultUpstream;
  let testApp: TestApp;

  beforeAll(async () => {
    upstream = await FaultUpstream.start();
    const AppModule = await importExampleAppModule({
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: upstream.baseURL,
      LLM_MODEL: 'gpt-4o-mini',
      RESILIENT_LLM_DB: ':memory:',
      // Each call reserves 1000 tokens at $0.60/MTok (600 micro-dollars) and really costs 16.
      BUDGET_DAILY_USD: '0.0007',
    });
    testApp = await createTestApp({ imports: [AppModule] }, undefined, adapter);
  });
  afterAll(async () => {
    await testApp.app.close();
    await upstream.stop();
  });

  it('admits calls while their worst case fits, then answers 429 without calling the upstream', async () => {
    const statuses: number[] = [];
    for (let call = 0; call < 10; call++) statuses.push((await testApp.http().post('/chat').send({ message: 'Hello' })).status);
    // 16 x n + 600 <= 700 holds for n <= 6: the 8th call cannot reserve.
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 429, 429, 429]);
    expect(upstream.stats().totalRequests).toBe(7);

    // The view is bound to the caller: acme reads its own scope (and, in the demo, the global one).
    const view = await testApp.http().get('/resilient-llm/budget').set('x-tenant-id', 'acme').expect(200);
    expect(view.body.global.windows).toEqual([
      expect.objectContaining({ scope: 'global', window: 'daily', limitUsd: 0.0007, spentMicroUsd: 7 * 16, reservedMicroUsd: 0, ratio: 0.16, state: 'healthy' }),
    ]);
    expect(view.body.scope).toEqual({ scope: 'acme', state: 'healthy', windows: [] });
    const other = await testApp.http().get('/resilient-llm/budget?scope=globex').set('x-tenant-id', 'acme').expect(403);
    expect(other.body).toMatchObject({ code: 'budget_scope_forbidden' });
  });
});
