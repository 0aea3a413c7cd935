import { FaultUpstream } from '@app/fault-upstream';
import { BudgetGuard, type ResilientLlmModuleOptions } from '@resilient-llm/nestjs';
import { budgetModule } from './apps/budget.app.js';
import { installTestTelemetry } from './support/telemetry.js';
import { HTTP_ADAPTERS, type TestApp, createTestApp } from './support/test-app.js';

const telemetry = installTestTelemetry();

/** Storm control measured by the upstream's own counters. */
describe.each(HTTP_ADAPTERS)('storm control on %s', (adapter) => {
  let upstream: FaultUpstream;
  const apps: TestApp[] = [];

  beforeEach(async () => {
    upstream = await FaultUpstream.start();
    telemetry.spans.reset();
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.app.close();
    await upstream.stop();
  });

  async function boot(options: ResilientLlmModuleOptions) {
    const app = await createTestApp({
      imports: [budgetModule({ client: { apiKey: 't', baseURL: upstream.baseURL, attemptTimeoutMs: 500 }, storage: { database: ':memory:' }, ...options })],
    }, undefined, adapter);
    apps.push(app);
    return app;
  }

  async function fire(app: TestApp, requests: number, concurrency = 20): Promise<number[]> {
    const statuses: number[] = [];
    for (let sent = 0; sent < requests; sent += concurrency) {
      const batch = Array.from({ length: Math.min(concurrency, requests - sent) }, () => app.http().post('/ask'));
      statuses.push(...(await Promise.all(batch)).map((response) => response.status));
    }
    return statuses;
  }

  const successRate = (statuses: number[]) => statuses.filter((status) => status === 200).length / statuses.length;

  it('total outage, 1000 requests: the retry budget keeps upstream attempts per request <= 1.15 (3.0 without it)', async () => {
    upstream.setFaults({ rates: { '503': 1 } });
    const withoutBudget = await boot({ stormControl: { retryBudget: false, circuitBreaker: false } });
    await fire(withoutBudget, 1_000);
    expect(upstream.stats().totalRequests / 1_000).toBe(3);

    upstream.resetStats();
    const withBudget = await boot({ stormControl: { circuitBreaker: false } });
    await fire(withBudget, 1_000);
    const amplification = upstream.stats().totalRequests / 1_000;
    expect(amplification).toBeLessThanOrEqual(1.15);

    // The upstream recovers: every request succeeds again at once (first attempts were never held back).
    upstream.setFaults({});
    expect(successRate(await fire(withBudget, 100))).toBe(1);
  }, 180_000); // 3,000 upstream requests: about 10 s alone, more on a loaded machine; the count, not the time, is the test.

  it('an outage that sends Retry-After still draws on the retry budget (only a 429 is exempt)', async () => {
    upstream.setFaults({ rates: { '503:retry-after-ms=1': 1 } });
    const app = await boot({ stormControl: { circuitBreaker: false } });
    await fire(app, 500);
    expect(upstream.stats().totalRequests / 500).toBeLessThanOrEqual(1.15);
  });

  it('5% random faults: the retry budget does not get in the way (same success rate, +/- 0.1 pt)', async () => {
    const faults = { seed: 42, rates: { '503': 0.05 } };
    upstream.setFaults(faults);
    const without = successRate(await fire(await boot({ stormControl: { retryBudget: false, circuitBreaker: false } }), 1_000, 1));
    upstream.setFaults(faults);
    const withBudget = successRate(await fire(await boot({ stormControl: { circuitBreaker: false } }), 1_000, 1));
    expect(Math.abs(withBudget - without)).toBeLessThanOrEqual(0.001);
    expect(withBudget).toBeGreaterThanOrEqual(0.999);
  });

  it("circuit breaker, whenOpen 'fail': with the upstream down, at most the probe count reaches it per open interval", async () => {
    upstream.setFaults({ rates: { '503': 1 } });
    const app = await boot({
      backoff: { maxAttempts: 1 },
      budget: { limits: { dailyUsd: 1 } },
      stormControl: { whenOpen: 'fail', retryBudget: false, circuitBreaker: { mode: 'consecutive', consecutiveFailures: 5, openMs: 10_000, halfOpenProbes: 2 } },
    });
    const statuses = await fire(app, 30, 1);
    expect(upstream.stats().totalRequests).toBe(5);
    const refused = await app.http().post('/ask').expect(503);
    expect(refused.body).toMatchObject({ code: 'circuit_open' });
    expect(refused.headers['retry-after']).toBe('10');
    expect(statuses.filter((status) => status === 503)).toHaveLength(30);
    // No budget was reserved for a call refused by the open circuit.
    expect((await app.app.get(BudgetGuard).status()).windows[0]).toMatchObject({ reservedMicroUsd: 0 });

    for (let interval = 1; interval <= 3; interval++) {
      app.clock.advance(10_000);
      await fire(app, 20, 20);
      expect(upstream.stats().totalRequests).toBe(5 + 2 * interval);
    }

    upstream.setFaults({});
    app.clock.advance(10_000);
    await app.http().post('/ask').expect(200); // a probe succeeds: closed again
    expect(successRate(await fire(app, 20))).toBe(1);
    const events = (await telemetry.finishedSpans()).flatMap((span) => span.events.map((event) => `${event.name}:${event.attributes?.['resilient_llm.circuit.state']}`));
    expect(events).toEqual(expect.arrayContaining(['resilient_llm.circuit.transition:open', 'resilient_llm.circuit.transition:half_open', 'resilient_llm.circuit.transition:closed']));
  });

  it('concurrency limit: never more than the limit in flight at the upstream; the queue is bounded', async () => {
    upstream.setFaults({ latencyMs: 30 });
    const queued = await boot({ stormControl: { concurrency: { perModel: { flat: 3 } } } });
    expect(successRate(await fire(queued, 30, 30))).toBe(1);
    expect(upstream.stats().maxConcurrent).toBe(3);

    upstream.resetStats();
    // Slow enough that all 20 arrive while the first 2 are still in flight, however they are spread.
    upstream.setFaults({ latencyMs: 400 });
    const bounded = await boot({ stormControl: { concurrency: { limit: 2, maxQueue: 4 } } });
    const responses = await Promise.all(Array.from({ length: 20 }, () => bounded.http().post('/ask')));
    expect(responses.filter((r) => r.status === 200)).toHaveLength(6);
    const refused = responses.filter((r) => r.status === 503);
    expect(refused).toHaveLength(14);
    expect(refused[0].body).toMatchObject({ code: 'concurrency_limit_exceeded' });
    expect(upstream.stats()).toMatchObject({ totalRequests: 6, maxConcurrent: 2 });
  });

  it('a queue timeout refuses what waited too long', async () => {
    upstream.setFaults({ latencyMs: 150 });
    const app = await boot({ stormControl: { concurrency: { limit: 1, queueTimeoutMs: 40 } } });
    const responses = await Promise.all(Array.from({ length: 3 }, () => app.http().post('/ask')));
    expect(responses.map((r) => r.status).sort()).toEqual([200, 503, 503]);
  });

  it('a fallback model stands in while the primary circuit is open, at its own price', async () => {
    const app = await boot({
      backoff: { maxAttempts: 1 },
      budget: { limits: { dailyUsd: 1 } },
      stormControl: { retryBudget: false, circuitBreaker: { mode: 'consecutive', consecutiveFailures: 2, openMs: 60_000 }, fallbacks: { flat: ['flat-cheap'] } },
    });
    upstream.setFaults({ sequence: ['503', '503'] });
    await fire(app, 2, 1);
    const response = await app.http().post('/ask').expect(200);
    expect(response.body.model).toBe('flat-cheap');
    expect(upstream.stats().byModel).toEqual({ flat: 2, 'flat-cheap': 1 });
    // 32 tokens at $0.50/MTok: 16 micro-dollars.
    expect((await app.app.get(BudgetGuard).status()).windows[0]).toMatchObject({ spentMicroUsd: 16 });
    const call = (await telemetry.finishedSpans()).filter((span) => span.name === 'resilient_llm.call').at(-1)!;
    expect(call.attributes).toMatchObject({ 'resilient_llm.fallback_from': 'flat', 'gen_ai.request.model': 'flat-cheap' });
  });

  it('a retry refused by the budget is an event on the call span', async () => {
    upstream.setFaults({ rates: { '503': 1 } });
    const app = await boot({ stormControl: { circuitBreaker: false, retryBudget: { maxTokens: 2 } } });
    const response = await app.http().post('/ask').expect(503);
    expect(response.body).toMatchObject({ giveUpReason: 'retry_budget_exhausted', attempts: 1 });
    const call = (await telemetry.finishedSpans()).find((span) => span.name === 'resilient_llm.call')!;
    expect(call.events.map((event) => event.name)).toContain('resilient_llm.retry_budget.denied');
  });
});
