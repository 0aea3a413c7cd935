import { FaultUpstream } from '@app/fault-upstream';
import { ManualClock } from '@resilient-llm/nestjs/testing';
import { HTTP_ADAPTERS, type TestApp, createTestApp, importExampleAppModule } from './support/test-app.js';

/**
 * The example app's guarded POST /chat, over real HTTP, calling the real openai SDK against
 * the fault-injecting upstream. Every assertion counts what the upstream itself received.
 */
describe.each(HTTP_ADAPTERS)('POST /chat (example app, provider configured) on %s', (adapter) => {
  let upstream: FaultUpstream;
  let testApp: TestApp;
  let resetStormControl: () => void;

  beforeAll(async () => {
    // One clock for both sides, so that an HTTP-date Retry-After means the same instant to each.
    const clock = new ManualClock();
    upstream = await FaultUpstream.start({ now: () => clock.now() });
    const AppModule = await importExampleAppModule({
      OPENAI_API_KEY: 'sk-test-key-never-echoed',
      OPENAI_BASE_URL: upstream.baseURL,
      LLM_MODEL: 'gpt-4.1',
    });
    testApp = await createTestApp({ imports: [AppModule] }, clock, adapter);
    // The app was imported afresh (it reads the environment on import): take its copy of the class.
    const { StormControl } = await import('@resilient-llm/nestjs');
    resetStormControl = () => testApp.app.get(StormControl).reset();
  });
  afterAll(async () => {
    await testApp.app.close();
    await upstream.stop();
  });
  beforeEach(() => {
    upstream.resetStats();
    testApp.clock.sleeps.length = 0;
    // Each case is about one call: no circuit or retry budget carried over from the last.
    resetStormControl();
  });

  const chat = (message = 'Hello') => testApp.http().post('/chat').send({ message });

  it('answers with the completion, its token usage and its cost', async () => {
    upstream.setFaults({});
    const response = await chat('Say something').expect(200);
    expect(response.body).toEqual({
      reply: expect.stringMatching(/\w+( \w+){23}/),
      model: 'gpt-4.1',
      // 'Say something' is 2 tokens in o200k_base, 9 with the chat framing and the role.
      usage: { inputTokens: 9, outputTokens: 24 },
      // 9 x $2/MTok + 24 x $8/MTok = $0.000018 + $0.000192
      costUsd: 0.00021,
      attempts: 1,
    });
    expect(upstream.stats().totalRequests).toBe(1);
  });

  it('503 then success: 2 upstream requests, one backoff, 200 to the client', async () => {
    upstream.setFaults({ sequence: ['503', 'ok'] });
    const response = await chat().expect(200);
    expect(response.body.attempts).toBe(2);
    expect(upstream.stats()).toMatchObject({ totalRequests: 2, byOutcome: { '503': 1, '200': 1 } });
    // Full jitter with random 0.5 over min(10 s, 500 ms x 2^0).
    expect(testApp.clock.sleeps).toEqual([250]);
  });

  it('a connection reset is retried like a 5xx', async () => {
    upstream.setFaults({ sequence: ['reset', 'ok'] });
    await chat().expect(200);
    expect(upstream.stats()).toMatchObject({ totalRequests: 2, byOutcome: { reset: 1, '200': 1 } });
  });

  it('401: 1 upstream request, a 502 JSON body naming the cause, and no key in it', async () => {
    upstream.setFaults({ sequence: ['401'] });
    const response = await chat().expect(502);
    expect(response.body).toMatchObject({
      statusCode: 502,
      code: 'upstream_rejected',
      giveUpReason: 'not_retryable',
      attempts: 1,
      cause: { kind: 'client_error', upstreamStatus: 401, upstreamCode: 'invalid_api_key' },
    });
    expect(response.body.message).toMatch(/HTTP 401 \(invalid_api_key\)/);
    expect(JSON.stringify(response.body)).not.toMatch(/sk-/);
    expect(upstream.stats().totalRequests).toBe(1);
    expect(testApp.clock.sleeps).toEqual([]);
  });

  it('insufficient_quota: 1 upstream request, never retried', async () => {
    upstream.setFaults({ sequence: ['insufficient_quota', 'ok'] });
    const response = await chat().expect(502);
    expect(response.body.cause).toEqual({ kind: 'insufficient_quota', upstreamStatus: 429, upstreamCode: 'insufficient_quota' });
    expect(upstream.stats().totalRequests).toBe(1);
  });

  it("context length exceeded: 1 upstream request, never retried, a 422 that is the caller's to fix", async () => {
    upstream.setFaults({ sequence: ['context_length', 'ok'] });
    const response = await chat().expect(422);
    expect(response.body).toMatchObject({ code: 'context_length_exceeded', cause: { upstreamCode: 'context_length_exceeded' } });
    expect(upstream.stats().totalRequests).toBe(1);
  });

  it('Retry-After: 2 makes the next attempt wait exactly 2 s', async () => {
    upstream.setFaults({ sequence: ['429:retry-after=2', 'ok'] });
    await chat().expect(200);
    expect(testApp.clock.sleeps).toEqual([2_000]);
    expect(upstream.stats().totalRequests).toBe(2);
  });

  it('retry-after-ms wins over Retry-After', async () => {
    upstream.setFaults({ sequence: ['429:retry-after=2,retry-after-ms=150', 'ok'] });
    await chat().expect(200);
    expect(testApp.clock.sleeps).toEqual([150]);
  });

  it('Retry-After as an HTTP date is honoured against the clock', async () => {
    upstream.setFaults({ sequence: ['429:retry-after-date=5', 'ok'] });
    // An HTTP date has whole seconds: start on one, so that the wait is exactly 5 s.
    testApp.clock.advance(1_000 - (testApp.clock.now() % 1_000));
    await chat().expect(200);
    expect(testApp.clock.sleeps).toEqual([5_000]);
  });

  it('a total outage stops after maxAttempts (3) with a 503 to the client', async () => {
    upstream.setFaults({ rates: { '503': 1 } });
    const response = await chat().expect(503);
    expect(response.body).toMatchObject({ code: 'upstream_unavailable', giveUpReason: 'max_attempts', attempts: 3 });
    expect(upstream.stats()).toMatchObject({ totalRequests: 3, byOutcome: { '503': 3 } });
    expect(testApp.clock.sleeps).toEqual([250, 500]);
  });

  it('the nested client call inside the guarded handler never multiplies attempts', async () => {
    // Both layers would retry 3 times on their own: 3 x 3 = 9 requests if they both did.
    upstream.setFaults({ rates: { '500': 1 } });
    await chat().expect(503);
    expect(upstream.stats().totalRequests).toBe(3);
  });

  it('a 429 outage tells the client when to come back', async () => {
    upstream.setFaults({ rates: { '429:retry-after=3': 1 } });
    const response = await chat().expect(503);
    expect(response.headers['retry-after']).toBe('3');
    expect(upstream.stats().totalRequests).toBe(3);
  });

  it('honours an Idempotency-Key: a repeat replays the reply without a second upstream call', async () => {
    upstream.setFaults({});
    const first = await testApp.http().post('/chat').set('Idempotency-Key', 'chat-1').send({ message: 'Hello' }).expect(200);
    const repeat = await testApp.http().post('/chat').set('Idempotency-Key', 'chat-1').send({ message: 'Hello' }).expect(200);
    expect(repeat.text).toBe(first.text);
    expect(repeat.headers['idempotent-replayed']).toBe('true');
    await testApp.http().post('/chat').set('Idempotency-Key', 'chat-1').send({ message: 'Bye' }).expect(422);
    expect(upstream.stats().totalRequests).toBe(1);
  });

  it('rejects a malformed body with a 400 JSON body, without calling the upstream', async () => {
    const response = await testApp.http().post('/chat').send({ text: 'hi' }).expect(400);
    expect(response.body).toMatchObject({ statusCode: 400, code: 'invalid_request', message: expect.stringMatching(/message: /) });
    await testApp.http().post('/chat').send({ message: '   ' }).expect(400);
    expect(upstream.stats().totalRequests).toBe(0);
  });
});
