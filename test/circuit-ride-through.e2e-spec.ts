import { FaultUpstream } from '@app/fault-upstream';
import type { ResilientLlmModuleOptions } from '@resilient-llm/nestjs';
import { ManualClock } from '@resilient-llm/nestjs/testing';
import { budgetModule } from './apps/budget.app.js';
import { installTestTelemetry } from './support/telemetry.js';
import { HTTP_ADAPTERS, type TestApp, createTestApp } from './support/test-app.js';

const telemetry = installTestTelemetry();

/**
 * Real time: a held request is woken by the circuit's own timers. Short periods, and
 * assertions on counts, never on how long anything took.
 */
class WallClock extends ManualClock {
  override now(): number {
    return Date.now();
  }

  override async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    await new Promise((resolve) => setTimeout(resolve, ms));
    signal?.throwIfAborted();
  }
}

const RIDE_THROUGH: ResilientLlmModuleOptions['stormControl'] = {
  retryBudget: false,
  circuitBreaker: { mode: 'consecutive', consecutiveFailures: 3, openMs: 150 },
  openCircuit: { releaseRampMs: 100 },
};

describe.each(HTTP_ADAPTERS)("an open circuit, whenOpen 'wait' (the default), on %s", (adapter) => {
  let upstream: FaultUpstream;
  let app: TestApp;

  async function boot(options: Partial<ResilientLlmModuleOptions>) {
    app = await createTestApp(
      { imports: [budgetModule({ client: { apiKey: 't', baseURL: upstream.baseURL, attemptTimeoutMs: 2_000 }, ...options })] },
      new WallClock(),
      adapter,
    );
  }

  beforeEach(async () => {
    upstream = await FaultUpstream.start();
    telemetry.spans.reset();
  });
  afterEach(async () => {
    await app?.app.close();
    await upstream.stop();
  });

  it('holds requests instead of failing them; one probe per open period reaches the upstream; all succeed once it recovers', async () => {
    await boot({ backoff: { maxAttempts: 3, baseMs: 10, capMs: 20, deadlineMs: 30_000 }, stormControl: RIDE_THROUGH });
    // Three failures open the circuit (the first call's three attempts); the first probe fails too.
    upstream.setFaults({ sequence: ['503', '503', '503', '503'] });
    await app.http().post('/ask').expect(503);
    expect(upstream.stats().totalRequests).toBe(3);

    const held = await Promise.all(Array.from({ length: 20 }, () => app.http().post('/ask')));
    expect(held.map((response) => response.status)).toEqual(Array(20).fill(200));
    // 20 answered requests and one failed probe: nothing else reached the upstream while it was down.
    expect(upstream.stats().totalRequests).toBe(3 + 21);
    expect(upstream.stats().byOutcome['503']).toBe(4);

    const attempts = (await telemetry.finishedSpans()).filter((span) => span.name === 'resilient_llm.attempt');
    const heldAttempts = attempts.filter((span) => Number(span.attributes['resilient_llm.circuit.held_ms']) > 0);
    expect(heldAttempts.length).toBeGreaterThanOrEqual(20);
  });

  it('refuses at once, with 503 and Retry-After, a request whose deadline comes before the circuit can let one through', async () => {
    await boot({
      backoff: { maxAttempts: 1, deadlineMs: 1_000 },
      stormControl: { retryBudget: false, circuitBreaker: { mode: 'consecutive', consecutiveFailures: 1, openMs: 60_000 } },
    });
    upstream.setFaults({ sequence: ['503'] });
    await app.http().post('/ask').expect(503);
    const refused = await app.http().post('/ask').expect(503);
    expect(refused.body).toMatchObject({ code: 'circuit_open' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(59);
    expect(upstream.stats().totalRequests).toBe(1);
  });
});
