import { FaultUpstream } from '@app/fault-upstream';
import { StormControl } from '@resilient-llm/nestjs';
import { ManualClock } from '@resilient-llm/nestjs/testing';
import { ScenarioController, scenarioModule } from './apps/scenario.app.js';
import { HTTP_ADAPTERS, type TestApp, createTestApp } from './support/test-app.js';

describe.each(HTTP_ADAPTERS)('@Guarded scenarios on %s', (adapter) => {
  let upstream: FaultUpstream;
  let testApp: TestApp;
  let controller: ScenarioController;

  beforeAll(async () => {
    const clock = new ManualClock();
    upstream = await FaultUpstream.start({ now: () => clock.now() });
    const ScenarioModule = scenarioModule({
      client: { apiKey: 'test', baseURL: upstream.baseURL, attemptTimeoutMs: 200 },
      backoff: { strategy: 'exponential', baseMs: 100, capMs: 1_000, maxAttempts: 3, deadlineMs: 30_000 },
    });
    testApp = await createTestApp({ imports: [ScenarioModule] }, clock, adapter);
    controller = testApp.app.get(ScenarioController);
  });
  afterAll(async () => {
    await testApp.app.close();
    await upstream.stop();
  });
  beforeEach(() => {
    upstream.resetStats();
    upstream.setFaults({});
    testApp.clock.sleeps.length = 0;
    controller.invocations = 0;
    // Each case is about one call: no circuit or retry budget carried over from the last.
    testApp.app.get(StormControl).reset();
  });

  const post = (path: string) => testApp.http().post(path);

  it('retries the failing upstream request inside the handler, which runs once', async () => {
    upstream.setFaults({ sequence: ['503', '502', 'ok'] });
    const response = await post('/guarded').expect(200);
    expect(response.body.attempts).toBe(3);
    expect(controller.invocations).toBe(1);
    expect(upstream.stats().totalRequests).toBe(3);
    expect(testApp.clock.sleeps).toEqual([100, 200]);
  });

  it("with retry: 'handler', re-runs the whole handler, whose requests make one attempt each", async () => {
    upstream.setFaults({ sequence: ['503', '502', 'ok'] });
    const response = await post('/handler-retry').expect(200);
    expect(response.body.run).toBe(3);
    expect(controller.invocations).toBe(3);
    expect(upstream.stats().totalRequests).toBe(3);
    expect(testApp.clock.sleeps).toEqual([100, 200]);

    upstream.resetStats();
    upstream.setFaults({ rates: { '503': 1 } });
    const failed = await post('/handler-retry').expect(503);
    expect(failed.body).toMatchObject({ code: 'upstream_unavailable', attempts: 3 });
    expect(upstream.stats().totalRequests).toBe(3);
  });

  it('outside a guarded handler, the client retries by itself', async () => {
    upstream.setFaults({ sequence: ['503', 'ok'] });
    await post('/unguarded').expect(200);
    expect(controller.invocations).toBe(1);
    expect(upstream.stats().totalRequests).toBe(2);

    upstream.resetStats();
    upstream.setFaults({ rates: { '503': 1 } });
    const failed = await post('/unguarded').expect(503);
    expect(failed.body).toMatchObject({ code: 'upstream_unavailable', attempts: 3 });
    expect(upstream.stats().totalRequests).toBe(3);
  });

  it('a guarded call opened inside a guarded handler joins it: attempts are not multiplied', async () => {
    upstream.setFaults({ rates: { '503': 1 } });
    await post('/nested-runner').expect(503);
    expect(controller.invocations).toBe(1);
    expect(upstream.stats().totalRequests).toBe(3);
  });

  it("passes the handler's own HTTP exception through, once, unretried", async () => {
    const response = await post('/own-error').expect(400);
    expect(response.body).toEqual({ statusCode: 400, code: 'bad_input', message: 'the handler said no' });
    expect(controller.invocations).toBe(1);
  });

  it('per-handler backoff options narrow the module defaults for that handler only', async () => {
    upstream.setFaults({ rates: { '503': 1 } });
    await post('/single-attempt').expect(503);
    expect(upstream.stats().totalRequests).toBe(1);
    upstream.resetStats();
    await post('/guarded').expect(503);
    expect(upstream.stats().totalRequests).toBe(3);
  });

  it('@Guarded on a controller class applies to its handlers', async () => {
    upstream.setFaults({ rates: { '500': 1 } });
    await post('/class-guarded').expect(503);
    expect(upstream.stats().totalRequests).toBe(2);
  });

  it('retries an attempt that times out (the upstream hangs) and counts it there', async () => {
    upstream.setFaults({ sequence: ['timeout', 'ok'] });
    await post('/guarded').expect(200);
    await vi.waitFor(() => expect(upstream.stats().byOutcome).toEqual({ timeout: 1, '200': 1 }));
  });

  it('x-should-retry: false stops a retry the status would allow', async () => {
    upstream.setFaults({ sequence: ['503:x-should-retry=false', 'ok'] });
    await post('/guarded').expect(502);
    expect(upstream.stats().totalRequests).toBe(1);
  });

  it('fails fast when the server asks to wait past the deadline, and passes the wait on', async () => {
    upstream.setFaults({ sequence: ['429:retry-after=120', 'ok'] });
    const response = await post('/guarded').expect(503);
    expect(response.body).toMatchObject({ giveUpReason: 'server_wait_exceeds_deadline', attempts: 1 });
    expect(response.headers['retry-after']).toBe('120');
    expect(testApp.clock.sleeps).toEqual([]);
    expect(upstream.stats().totalRequests).toBe(1);
  });

  it('gives up with 504 when the next computed delay would pass the deadline', async () => {
    // Deadline 250 ms; delays 100 then 200 ms: after the first sleep only 150 ms are left.
    upstream.setFaults({ rates: { '503': 1 } });
    const response = await post('/tight-deadline').expect(504);
    expect(response.body).toMatchObject({ code: 'retry_deadline_exceeded', giveUpReason: 'deadline', attempts: 2 });
    expect(testApp.clock.sleeps).toEqual([100]);
    expect(upstream.stats().totalRequests).toBe(2);
  });

  it('streams through a guarded handler and records the streamed usage', async () => {
    upstream.setFaults({ sequence: ['503', 'ok'] });
    const response = await post('/stream').expect(200);
    expect(response.body.text.split(' ')).toHaveLength(24);
    // 8 x $0.15/MTok + 24 x $0.60/MTok = 15.6 micro-dollars, rounded up.
    expect(response.body.usage).toEqual({ inputTokens: 8, outputTokens: 24, costMicroUsd: 16 });
    expect(upstream.stats()).toMatchObject({ totalRequests: 2, streamedRequests: 1 });
  });

  it('refuses to call a model with no price: no upstream request at all', async () => {
    await post('/unpriced-model').expect(500);
    expect(controller.invocations).toBe(1);
    expect(upstream.stats().totalRequests).toBe(0);
  });
});
