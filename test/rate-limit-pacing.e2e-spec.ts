import { FaultUpstream } from '@app/fault-upstream';
import type { ResilientLlmModuleOptions } from '@resilient-llm/nestjs';
import { budgetModule } from './apps/budget.app.js';
import { installTestTelemetry } from './support/telemetry.js';
import { HTTP_ADAPTERS, type TestApp, createTestApp } from './support/test-app.js';

const telemetry = installTestTelemetry();

// A provider allowing 20 requests per second-long window (the window shortened so the test
// takes seconds), already at its limit when the test starts, as under steady load.
const WINDOW_MS = 1_000;
const LIMIT = { requestsPerMinute: 20, windowMs: WINDOW_MS, startLevel: 0 };

describe.each(HTTP_ADAPTERS)("pacing to the provider's rate limit, on %s", (adapter) => {
  let upstream: FaultUpstream;
  let app: TestApp;

  async function boot(stormControl: ResilientLlmModuleOptions['stormControl']) {
    app = await createTestApp(
      { imports: [budgetModule({ client: { apiKey: 't', baseURL: upstream.baseURL }, backoff: { maxAttempts: 4 }, stormControl })] },
      undefined,
      adapter,
    );
  }

  beforeEach(async () => {
    upstream = await FaultUpstream.start();
    telemetry.spans.reset();
  });
  afterEach(async () => {
    await app.app.close();
    await upstream.stop();
  });

  it("learns the limit from the first answer's headers, then sends a burst of 30 at the limit's pace: no more 429s", async () => {
    await boot({ pacing: { windowMs: WINDOW_MS } });
    upstream.setFaults({ rateLimit: LIMIT });
    // Nothing known yet: the first request learns the limit from its answer's headers (a 429's too).
    await app.http().post('/ask').expect(200);
    const learnt = upstream.stats().rateLimited;

    const burst = await Promise.all(Array.from({ length: 30 }, () => app.http().post('/ask')));
    expect(burst.map((response) => response.status)).toEqual(Array(30).fill(200));
    expect(upstream.stats().rateLimited).toBe(learnt);
    const paced = (await telemetry.finishedSpans()).filter((span) => Number(span.attributes['resilient_llm.pacing.waited_ms']) > 0);
    expect(paced.length).toBeGreaterThanOrEqual(20);
  });

  it('without pacing the same burst meets the limit as 429s', async () => {
    await boot({ pacing: false, retryBudget: false });
    upstream.setFaults({ rateLimit: LIMIT });
    await app.http().post('/ask');
    const before = upstream.stats().rateLimited;
    await Promise.all(Array.from({ length: 30 }, () => app.http().post('/ask')));
    expect(upstream.stats().rateLimited - before).toBeGreaterThanOrEqual(10);
  });

  it('refuses at once, 503 with Retry-After, a request that cannot get room before its deadline', async () => {
    await boot({ pacing: { windowMs: 60_000 } });
    // One request a minute, and none left: the next room is a minute away.
    upstream.setFaults({ rateLimit: { requestsPerMinute: 1, windowMs: 60_000, startLevel: 0 } });
    await app.http().post('/ask');
    const sent = upstream.stats().totalRequests;
    const refused = await app.http().post('/ask');
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ code: 'rate_limit_wait_exceeded' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(upstream.stats().totalRequests).toBe(sent);
  });
});
