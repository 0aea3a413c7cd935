import { FaultUpstream } from '@app/fault-upstream';
import { BudgetGuard, ResilientLlmClient, type ResilientLlmModuleOptions } from '@resilient-llm/nestjs';
import { TOKENS_PER_CALL } from './apps/budget.app.js';
import { streamingModule } from './apps/streaming.app.js';
import { type TestApp, createTestApp } from './support/test-app.js';

/** Paths where money or a slot could be lost: streams nobody reads, requests that run in parallel. */
describe('budget and slots on the edges', () => {
  let upstream: FaultUpstream;
  let app: TestApp;

  beforeEach(async () => {
    upstream = await FaultUpstream.start();
  });
  afterEach(async () => {
    await app.app.close();
    await upstream.stop();
  });

  async function boot(options: ResilientLlmModuleOptions) {
    app = await createTestApp({ imports: [streamingModule({ client: { apiKey: 't', baseURL: upstream.baseURL, attemptTimeoutMs: 150 }, ...options })] });
    return { client: app.app.get(ResilientLlmClient), guard: app.app.get(BudgetGuard) };
  }

  const window = async (guard: BudgetGuard) => (await guard.status()).windows[0];
  const messages = [{ role: 'user' as const, content: 'Hello' }];

  it('a stream closed before its first read frees its slot and settles what it may have cost', async () => {
    const { client, guard } = await boot({ budget: { limits: { dailyUsd: 1 } }, stormControl: { concurrency: { limit: 1, queueTimeoutMs: 50 } } });
    const stream = await client.streamChatCompletion({ messages, max_tokens: 50 });
    await stream[Symbol.asyncIterator]().return?.();
    await client.createChatCompletion({ messages }); // the only slot is free again
    await vi.waitFor(async () => expect(await window(guard)).toMatchObject({ reservedMicroUsd: 0 }));
    // The unread stream is settled on its prompt, counted (8 tokens), the completion on its usage (32).
    expect((await window(guard)).spentMicroUsd).toBe(8 + 32);
  });

  it('a stream nobody ever reads is closed after the attempt timeout, freeing its slot', async () => {
    const { client, guard } = await boot({ budget: { limits: { dailyUsd: 1 } }, stormControl: { concurrency: { limit: 1, queueTimeoutMs: 1_000 } } });
    await client.streamChatCompletion({ messages, max_tokens: 50 }); // opened, never read
    await client.createChatCompletion({ messages }); // waits in the queue until the idle stream is closed
    await vi.waitFor(async () => expect(await window(guard)).toMatchObject({ reservedMicroUsd: 0 }));
  });

  it('a stream read to its end inside a guarded handler is spend, not waste', async () => {
    const { guard } = await boot({ budget: { limits: { dailyUsd: 1 } } });
    await app.http().post('/stream').expect(200, { words: 24 });
    expect(await window(guard)).toMatchObject({ spentMicroUsd: TOKENS_PER_CALL, wasteMicroUsd: 0, reservedMicroUsd: 0 });
  });

  it('requests running in parallel inside one guarded call top up one at a time: exactly their worst cases fit', async () => {
    // Room for exactly 4 requests' worst cases: each top-up must see the ones before it, or
    // parallel top-ups would each reserve the whole shortfall and refuse a call that fits.
    const { guard } = await boot({ budget: { limits: { dailyUsd: (4 * TOKENS_PER_CALL) / 1_000_000 } } });
    await app.http().post('/parallel').expect(200, { replies: 4 });
    expect(upstream.stats().totalRequests).toBe(4);
    expect(await window(guard)).toMatchObject({ spentMicroUsd: 4 * TOKENS_PER_CALL, reservedMicroUsd: 0 });
  });

  it('requests running in parallel inside one guarded call each need their own headroom', async () => {
    // Room for 2 requests' worth: 4 at once must not all slip under one reservation.
    const { guard } = await boot({ budget: { limits: { dailyUsd: (2 * TOKENS_PER_CALL) / 1_000_000 } } });
    await app.http().post('/parallel').expect(429);
    expect(upstream.stats().totalRequests).toBeLessThanOrEqual(2);
    const after = await window(guard);
    expect(after.spentMicroUsd + after.reservedMicroUsd).toBeLessThanOrEqual(after.limitMicroUsd);
  });
});
