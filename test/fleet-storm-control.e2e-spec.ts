import { FaultUpstream } from '@app/fault-upstream';
import { type ResilientLlmModuleOptions, StormControl } from '@resilient-llm/nestjs';
import { budgetModule } from './apps/budget.app.js';
import { REDIS_URL, skipWithoutRedis, uniquePrefix } from './support/fleet-redis.js';
import { HTTP_ADAPTERS, type TestApp, createTestApp } from './support/test-app.js';

const skip = await skipWithoutRedis();

/** Two replicas of one app (each its own Nest app and Redis link) in front of one upstream. */
describe.skipIf(skip).each(HTTP_ADAPTERS)('fleet-wide storm state between two replicas, on %s', (adapter) => {
  let upstream: FaultUpstream;
  const replicas: TestApp[] = [];

  beforeEach(async () => {
    upstream = await FaultUpstream.start();
  });
  afterEach(async () => {
    for (const replica of replicas.splice(0)) await replica.app.close();
    await upstream.stop();
  });

  async function boot(stormControl: ResilientLlmModuleOptions['stormControl']): Promise<TestApp> {
    const replica = await createTestApp(
      { imports: [budgetModule({ client: { apiKey: 't', baseURL: upstream.baseURL }, backoff: { maxAttempts: 1 }, stormControl })] },
      undefined,
      adapter,
    );
    replicas.push(replica);
    return replica;
  }

  /** Resolves with the wall-clock time at which `replica` follows a circuit another replica opened. */
  function remoteOpen(replica: TestApp): Promise<number> {
    return new Promise((resolve) => {
      const stop = replica.app.get(StormControl).onCircuitTransition((transition) => {
        if (transition.remote && transition.to === 'open') {
          stop();
          resolve(Date.now());
        }
      });
    });
  }

  it('a circuit one replica opens is open on the other within 1 s, before it fails there itself', async () => {
    const keyPrefix = uniquePrefix();
    const shared: ResilientLlmModuleOptions['stormControl'] = {
      whenOpen: 'fail',
      retryBudget: false,
      circuitBreaker: { mode: 'consecutive', consecutiveFailures: 1, openMs: 60_000 },
      fleet: { redis: REDIS_URL, keyPrefix },
    };
    const first = await boot(shared);
    const second = await boot(shared);
    // The second replica has used the model once, healthy, so it has a circuit to follow.
    await second.http().post('/ask').expect(200);
    const followed = remoteOpen(second);

    let openedAt = 0;
    first.app.get(StormControl).onCircuitTransition((transition) => {
      if (!transition.remote && transition.to === 'open') openedAt = Date.now();
    });
    upstream.setFaults({ sequence: ['503'] });
    await first.http().post('/ask').expect(503);
    expect(openedAt).toBeGreaterThan(0);
    expect((await followed) - openedAt).toBeLessThan(1_000);

    const refused = await second.http().post('/ask').expect(503);
    expect(refused.body).toMatchObject({ code: 'circuit_open' });
    expect(upstream.stats().totalRequests).toBe(2);
  });

  it('without fleet state the other replica learns the outage only by failing itself', async () => {
    const local: ResilientLlmModuleOptions['stormControl'] = { whenOpen: 'fail', retryBudget: false, circuitBreaker: { mode: 'consecutive', consecutiveFailures: 1, openMs: 60_000 } };
    const first = await boot(local);
    const second = await boot(local);
    upstream.setFaults({ rates: { '503': 1 } });
    await first.http().post('/ask').expect(503);
    const failed = await second.http().post('/ask').expect(503);
    expect(failed.body.code).not.toBe('circuit_open');
    expect(upstream.stats().totalRequests).toBe(2);
  });

  it('the retry budget is one for the fleet: failures on one replica stop retries on the other', async () => {
    const keyPrefix = uniquePrefix();
    const shared: ResilientLlmModuleOptions['stormControl'] = { circuitBreaker: false, retryBudget: { maxTokens: 10 }, fleet: { redis: REDIS_URL, keyPrefix, syncMs: 20 } };
    const first = await boot(shared);
    const second = await boot(shared);
    upstream.setFaults({ rates: { '503': 1 } });
    // Six failures on the first replica: 4 tokens left of 10, under half, so no retries anywhere.
    for (let call = 0; call < 6; call++) await first.http().post('/ask').expect(503);
    const budget = second.app.get(StormControl).retryBudget('flat')!;
    await vi.waitFor(() => expect(budget.available).toBeLessThanOrEqual(5), { timeout: 5_000, interval: 20 });
    expect(budget.tryRetry()).toBe(false);
  });
});
