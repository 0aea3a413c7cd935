import { FaultUpstream } from './fault-upstream.server.js';
import { LogicalRequests } from './logical-requests.js';

const messages = [{ role: 'user', content: 'Hello, upstream' }];
const CHAT_PROMPT_TOKENS = 10;

describe('FaultUpstream retry accounting by x-logical-request', () => {
  let upstream: FaultUpstream;
  const seen: Array<{ outcome: string; retry: boolean }> = [];

  const chat = (logicalRequest?: string, signal?: AbortSignal) =>
    fetch(`${upstream.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(logicalRequest && { 'x-logical-request': logicalRequest }) },
      body: JSON.stringify({ model: 'm', messages, max_tokens: 5 }),
      signal,
    }).then(
      (response) => response.status,
      () => 'failed',
    );

  beforeEach(async () => {
    seen.length = 0;
    upstream = await FaultUpstream.start({ onRequest: ({ outcome, retry }) => seen.push({ outcome, retry }) });
  });
  afterEach(() => upstream.stop());

  it('counts retries of a logical request and the prompt tokens its abandoned retries were billed', async () => {
    upstream.setFaults({ sequence: ['reset', 'timeout', 'ok', 'reset', 'ok', 'ok'] });
    expect(await chat('a')).toBe('failed');
    // The client gives up on the hanging retry once the upstream has drawn its fault, whatever the machine's speed.
    const giveUp = new AbortController();
    const hanging = chat('a', giveUp.signal);
    await vi.waitFor(() => expect(upstream.stats().retryAbandonedPromptTokens).toBe(CHAT_PROMPT_TOKENS));
    giveUp.abort();
    expect(await hanging).toBe('failed');
    await vi.waitFor(() => expect(upstream.stats().byOutcome.timeout).toBe(1));
    expect(await chat('a')).toBe(200);
    // Without the header every attempt is its own logical request: never a retry.
    expect(await chat()).toBe('failed');
    expect(await chat()).toBe(200);
    expect(await chat('b')).toBe(200);

    expect(upstream.stats()).toMatchObject({
      totalRequests: 6,
      retryRequests: 2,
      // The reset of a's first attempt, a's timed-out retry, the reset without a header.
      abandonedPromptTokens: 3 * CHAT_PROMPT_TOKENS,
      retryAbandonedPromptTokens: CHAT_PROMPT_TOKENS,
    });
    expect(seen.map(({ retry }) => retry)).toEqual([false, true, true, false, false, false]);
  });

  it('forgets the ids it has seen when the stats are reset', async () => {
    expect(await chat('a')).toBe(200);
    expect(await chat('a')).toBe(200);
    expect(upstream.stats().retryRequests).toBe(1);
    await fetch(`${upstream.url}/_upstream/stats`, { method: 'DELETE' });
    expect(await chat('a')).toBe(200);
    expect(upstream.stats()).toMatchObject({ totalRequests: 1, retryRequests: 0, retryAbandonedPromptTokens: 0 });
  });

  it('counts a retry of a rate-limited attempt as a retry, and the 429 as rate-limited', async () => {
    let now = 0;
    await upstream.stop();
    upstream = await FaultUpstream.start({ now: () => now, faults: { rateLimit: { requestsPerMinute: 1, windowMs: 1_000 } } });
    expect(await chat('a')).toBe(200);
    expect(await chat('b')).toBe(429);
    now += 1_000;
    expect(await chat('b')).toBe(200);
    expect(upstream.stats()).toMatchObject({ totalRequests: 3, rateLimited: 1, retryRequests: 1, byOutcome: { '200': 2, '429': 1 } });
  });
});

describe('LogicalRequests', () => {
  it('stays bounded, forgetting the id least recently seen first', () => {
    const ids = new LogicalRequests(2);
    expect(['a', 'b', 'a', 'c'].map((id) => ids.isRetry(id))).toEqual([false, false, true, false]);
    expect(ids.size).toBe(2);
    // "b" was the least recently seen when "c" came: forgotten; "a" was not.
    expect(ids.isRetry('a')).toBe(true);
    expect(ids.isRetry('b')).toBe(false);
  });

  it('treats a missing or empty id as a logical request of its own', () => {
    const ids = new LogicalRequests();
    expect([undefined, undefined, '', ''].map((id) => ids.isRetry(id))).toEqual([false, false, false, false]);
    expect(ids.size).toBe(0);
  });
});
