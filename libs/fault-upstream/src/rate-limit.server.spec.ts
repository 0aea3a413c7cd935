import { FaultUpstream } from './fault-upstream.server.js';

const messages = [{ role: 'user', content: 'Hello, upstream' }];
/** "Hello, upstream" as one user message: 10 prompt tokens in chat (o200k_base plus OpenAI's framing). */
const CHAT_PROMPT_TOKENS = 10;

const rateLimitHeaders = (response: Response) =>
  Object.fromEntries([...response.headers].filter(([name]) => name.startsWith('x-ratelimit-') || name.startsWith('retry-after')));

describe('FaultUpstream rateLimit: a provider-like rate limit over HTTP, on an injected clock', () => {
  let upstream: FaultUpstream;
  let now: number;
  const seen: Array<{ outcome: string; retry: boolean; rateLimited: boolean }> = [];

  const post = (path: string, body: object, headers: Record<string, string> = {}) =>
    fetch(`${upstream.baseURL}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const chat = (extra: object = {}) => post('/chat/completions', { model: 'm', messages, max_tokens: 5, ...extra });

  beforeEach(async () => {
    now = 1_000_000;
    seen.length = 0;
    upstream = await FaultUpstream.start({ now: () => now, onRequest: ({ outcome, retry, rateLimited }) => seen.push({ outcome, retry, rateLimited }) });
  });
  afterEach(() => upstream.stop());

  // 5 requests and 75 tokens (5 requests of 10 + 5) a 600 ms window: one request's worth every 120 ms in both.
  const paced = { requestsPerMinute: 5, tokensPerMinute: 75, windowMs: 600, startLevel: 0 };

  it('draws no 429 from a steady load exactly at the limit, starting from empty buckets', async () => {
    upstream.setFaults({ rateLimit: paced });
    const statuses: number[] = [];
    for (let request = 0; request < 30; request++) {
      now += 120;
      const response = await chat();
      statuses.push(response.status);
      expect(rateLimitHeaders(response)).toMatchObject({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-remaining-tokens': '0' });
    }
    expect(statuses).toEqual(Array(30).fill(200));
    expect(upstream.stats()).toMatchObject({ rateLimited: 0, byOutcome: { '200': 30 } });
  });

  it('refuses the excess of a load at 120% of the limit with 429s whose retry-after says when it would pass', async () => {
    upstream.setFaults({ rateLimit: paced });
    const answers: Array<{ status: number; headers: Record<string, string> }> = [];
    for (let request = 0; request < 12; request++) {
      now += 100;
      const response = await chat();
      answers.push({ status: response.status, headers: rateLimitHeaders(response) });
      if (response.status === 429) {
        expect(await response.json()).toEqual({
          error: {
            message: 'Rate limit reached for requests per min (RPM) on m: Limit 5, Used 5, Requested 1. Please try again in 20ms.',
            type: 'requests',
            code: 'rate_limit_exceeded',
            param: null,
          },
        });
      }
    }
    // Every 600 ms brings 5 requests' worth: 5 of each 6 pass, the one arriving at an empty bucket does not.
    expect(answers.map(({ status }) => status)).toEqual([429, 200, 200, 200, 200, 200, 429, 200, 200, 200, 200, 200]);
    // 100 ms refilled 5/6 of a request: 20 ms more bring the rest, 500 ms fill all 5.
    expect(answers[0].headers).toMatchObject({ 'retry-after': '1', 'retry-after-ms': '20', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '500ms' });
    expect(answers[1].headers['retry-after']).toBeUndefined();
    expect(upstream.stats()).toMatchObject({ rateLimited: 2, byOutcome: { '200': 10, '429': 2 } });
    expect(seen.filter((request) => request.rateLimited)).toHaveLength(2);
  });

  it('admits a request retried exactly after retry-after-ms, and not a millisecond sooner', async () => {
    upstream.setFaults({ rateLimit: { requestsPerMinute: 60, windowMs: 60_000, startLevel: 0 } });
    const first = await chat();
    // startLevel 0: a provider already under load, nothing to spare until a request's worth refills.
    expect(first.status).toBe(429);
    expect(rateLimitHeaders(first)).toEqual({
      'retry-after': '1',
      'retry-after-ms': '1000',
      'x-ratelimit-limit-requests': '60',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '1m0s',
    });
    now += 999;
    const early = await chat();
    expect(early.status).toBe(429);
    expect(early.headers.get('retry-after-ms')).toBe('1');
    now += 1;
    const onTime = await chat();
    expect(onTime.status).toBe(200);
    expect(rateLimitHeaders(onTime)).toMatchObject({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '1m0s' });
  });

  it('sends OpenAI-formatted x-ratelimit-* headers computed after the take, on successes, streams and scripted faults', async () => {
    upstream.setFaults({ sequence: ['ok', 'ok', '503:retry-after=3'], rateLimit: { requestsPerMinute: 60, tokensPerMinute: 150_000 } });
    expect(rateLimitHeaders(await chat())).toEqual({
      'x-ratelimit-limit-requests': '60',
      'x-ratelimit-limit-tokens': '150000',
      'x-ratelimit-remaining-requests': '59',
      'x-ratelimit-remaining-tokens': '149985',
      // One request at 1 a second; 15 tokens at 2.5 a millisecond.
      'x-ratelimit-reset-requests': '1s',
      'x-ratelimit-reset-tokens': '6ms',
    });
    now += 500;
    const stream = await chat({ stream: true, max_tokens: 89_985 });
    expect(stream.headers.get('content-type')).toBe('text/event-stream');
    await stream.text();
    // The tokens bucket was full again (capped at its limit) before this 89 995-token take.
    expect(rateLimitHeaders(stream)).toMatchObject({
      'x-ratelimit-remaining-requests': '58',
      'x-ratelimit-remaining-tokens': '60005',
      'x-ratelimit-reset-requests': '1.5s',
      'x-ratelimit-reset-tokens': '35.998s',
    });
    now += 54_000;
    const failed = await chat();
    expect(failed.status).toBe(503);
    expect(rateLimitHeaders(failed)).toMatchObject({ 'retry-after': '3', 'x-ratelimit-remaining-tokens': '149985', 'x-ratelimit-reset-requests': '1s' });
    expect(upstream.stats()).toMatchObject({ rateLimited: 0, byOutcome: { '200': 2, '503': 1 } });
  });

  it('sends headers only for the dimensions configured, and none without a rateLimit', async () => {
    expect(rateLimitHeaders(await chat())).toEqual({});
    upstream.setFaults({ rateLimit: { tokensPerMinute: 1_000 } });
    expect(Object.keys(rateLimitHeaders(await chat())).sort()).toEqual(['x-ratelimit-limit-tokens', 'x-ratelimit-remaining-tokens', 'x-ratelimit-reset-tokens']);
  });

  it('counts a request as OpenAI does: prompt tokens plus the output cap times n, 4096 without a cap; embeddings their input only', async () => {
    upstream.setFaults({ rateLimit: { tokensPerMinute: 100_000 } });
    const remainingAfter = async (response: Promise<Response>) => Number((await response).headers.get('x-ratelimit-remaining-tokens'));
    expect(await remainingAfter(chat())).toBe(100_000 - (CHAT_PROMPT_TOKENS + 5));
    expect(await remainingAfter(chat({ max_tokens: undefined, max_completion_tokens: 50, n: 2 }))).toBe(99_985 - (CHAT_PROMPT_TOKENS + 100));
    expect(await remainingAfter(chat({ max_tokens: undefined }))).toBe(99_875 - (CHAT_PROMPT_TOKENS + 4096));
    // The Responses API counts "Hello, upstream" as 9 prompt tokens (no role), and its max_output_tokens.
    expect(await remainingAfter(post('/responses', { model: 'm', input: 'Hello, upstream', max_output_tokens: 20 }))).toBe(95_769 - (9 + 20));
    expect(await remainingAfter(post('/embeddings', { model: 'e', input: 'Hello, upstream' }))).toBe(95_740 - 3);
  });

  it('refuses with a tokens 429 the wait that refills enough tokens names', async () => {
    upstream.setFaults({ rateLimit: { tokensPerMinute: 100, windowMs: 1_000 } });
    expect((await chat({ max_tokens: 80 })).status).toBe(200);
    const refused = await chat({ max_tokens: 80 });
    expect(refused.status).toBe(429);
    // 90 tokens needed, 10 left, 0.1 a millisecond.
    expect(rateLimitHeaders(refused)).toMatchObject({ 'retry-after': '1', 'retry-after-ms': '800', 'x-ratelimit-remaining-tokens': '10' });
    expect((await refused.json()).error).toEqual({
      message: 'Rate limit reached for tokens per min (TPM) on m: Limit 100, Used 90, Requested 90. Please try again in 800ms.',
      type: 'tokens',
      code: 'rate_limit_exceeded',
      param: null,
    });
  });

  it('refuses a request larger than the tokens limit without a retry-after, using up no fault of the script', async () => {
    upstream.setFaults({ sequence: ['503'], rateLimit: { tokensPerMinute: 1_000 } });
    const tooLarge = await chat({ max_tokens: undefined });
    expect(tooLarge.status).toBe(429);
    expect(tooLarge.headers.get('retry-after')).toBeNull();
    expect(tooLarge.headers.get('retry-after-ms')).toBeNull();
    expect(tooLarge.headers.get('x-ratelimit-remaining-tokens')).toBe('1000');
    expect((await tooLarge.json()).error).toMatchObject({ type: 'tokens', code: 'rate_limit_exceeded', message: expect.stringMatching(/Requested 4106, which is larger than the limit/) });
    expect((await chat()).status).toBe(503);
    expect(upstream.stats()).toMatchObject({ rateLimited: 1, byOutcome: { '429': 1, '503': 1 } });
  });
});
