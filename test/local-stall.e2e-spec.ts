import { FaultUpstream } from '@app/fault-upstream';
import type { ResilientLlmModuleOptions } from '@resilient-llm/nestjs';
import { budgetModule } from './apps/budget.app.js';
import { installTestTelemetry } from './support/telemetry.js';
import { HTTP_ADAPTERS, type TestApp, createTestApp } from './support/test-app.js';

const telemetry = installTestTelemetry();

/** Holds this process's event loop, as a CPU-bound handler next door would. */
function holdEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spinning on purpose
  }
}

/** Holds the loop for `ms` once the upstream has a request in flight (the attempt is under way). */
function stallDuringFirstAttempt(upstream: FaultUpstream, ms: number): () => void {
  const poll = setInterval(() => {
    if (upstream.stats().inFlight === 0) return;
    clearInterval(poll);
    holdEventLoop(ms);
  }, 1);
  return () => clearInterval(poll);
}

// One failure opens the circuit and a bucket of 2 refuses the retry after one counted failure:
// either would show if a timeout the app caused itself were blamed on the upstream.
const STRICT_STORM: ResilientLlmModuleOptions['stormControl'] = {
  whenOpen: 'fail',
  circuitBreaker: { mode: 'consecutive', consecutiveFailures: 1, openMs: 60_000 },
  retryBudget: { maxTokens: 2 },
};

describe.each(HTTP_ADAPTERS)('a timeout the app caused itself, on %s', (adapter) => {
  let upstream: FaultUpstream;
  let app: TestApp;

  beforeEach(async () => {
    upstream = await FaultUpstream.start();
    telemetry.spans.reset();
    app = await createTestApp(
      {
        imports: [budgetModule({ client: { apiKey: 't', baseURL: upstream.baseURL, attemptTimeoutMs: 400 }, backoff: { maxAttempts: 2 }, stormControl: STRICT_STORM })],
      },
      undefined,
      adapter,
    );
  });
  afterEach(async () => {
    await app.app.close();
    await upstream.stop();
  });

  it('is retried, and neither opens the circuit nor draws on the retry budget', async () => {
    upstream.setFaults({ latencyMs: 250 });
    const stop = stallDuringFirstAttempt(upstream, 1_000);
    await app.http().post('/ask').expect(200);
    stop();
    expect(upstream.stats().totalRequests).toBe(2);
    const attempts = (await telemetry.finishedSpans()).filter((span) => span.name === 'resilient_llm.attempt');
    expect(attempts[0].attributes).toMatchObject({ 'resilient_llm.failure_kind': 'timeout' });
    expect(attempts[0].attributes['resilient_llm.local_stall_ms']).toBeGreaterThanOrEqual(500);

    // The circuit is still closed: the next call goes through.
    upstream.setFaults({});
    await app.http().post('/ask').expect(200);
    expect(upstream.stats().totalRequests).toBe(3);
  });

  it('while the same timeout with the loop free is the upstream failing: the circuit opens', async () => {
    upstream.setFaults({ sequence: ['timeout'], latencyMs: 10 });
    const failed = await app.http().post('/ask');
    expect(failed.body).toMatchObject({ giveUpReason: 'retry_budget_exhausted', attempts: 1 });
    const attempt = (await telemetry.finishedSpans()).find((span) => span.name === 'resilient_llm.attempt')!;
    expect(attempt.attributes['resilient_llm.local_stall_ms']).toBeUndefined();
    const refused = await app.http().post('/ask').expect(503);
    expect(refused.body).toMatchObject({ code: 'circuit_open' });
    expect(upstream.stats().totalRequests).toBe(1);
  });
});
