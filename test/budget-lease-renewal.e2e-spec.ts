import { FaultUpstream } from '@app/fault-upstream';
import { BudgetGuard } from '@resilient-llm/nestjs';
import { ManualClock } from '@resilient-llm/nestjs/testing';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOKENS_PER_CALL } from './apps/budget.app.js';
import { Gate, leaseModule } from './apps/lease.app.js';
import { createTestSchema, skipWithoutPostgres } from './support/postgres.js';
import { type TestApp, createTestApp } from './support/test-app.js';

const LEASE_MS = 600_000;
// Six requests' worth: 32 micro-dollars each at worst, and exactly.
const LIMIT_MICRO = 6 * TOKENS_PER_CALL;

const STORES = [
  {
    name: 'one SQLite file',
    open: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'resilient-llm-lease-'));
      return { database: join(dir, 'ledger.sqlite'), drop: () => rm(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'PostgreSQL',
    open: async () => {
      const schema = await createTestSchema();
      return { database: schema.url, drop: schema.drop };
    },
  },
];

/**
 * A wall clock steps forward by twice the lease while a call of replica A has a request in
 * flight, and replica B, on the same store, collects ended leases. A live call must not lose
 * money it may still spend: either it renewed first, or the expiry charges what it had in
 * flight and the call reserves again, within the limit, before it sends anything more. A lease
 * is set from the renewing replica's clock, so renewal protects a call only while the clocks agree.
 */
describe.each(STORES)('a clock step of 2x the lease during a call, on $name', ({ name, open }) => {
  let skip = false;
  let store: { database: string; drop: () => Promise<void> };
  let upstreamA: FaultUpstream;
  let upstreamB: FaultUpstream;
  let clockA: ManualClock;
  let clockB: ManualClock;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    skip = name === 'PostgreSQL' && (await skipWithoutPostgres());
  });
  afterEach(async () => {
    if (skip) return;
    // A call left waiting by a failed assertion would keep the server from closing.
    a.app.get(Gate).open();
    await a.app.close();
    await b.app.close();
    await upstreamA.stop();
    await upstreamB.stop();
    await store.drop();
  });

  /** A and B on one store; B's clock is A's unless `ownClock` (another host's clock). */
  async function boot(context: { skip: () => void }, ownClock: boolean) {
    if (skip) return context.skip();
    store = await open();
    // A's requests take 400 ms (real time): the step comes while the first is in flight.
    upstreamA = await FaultUpstream.start({ faults: { latencyMs: [400, 400] } });
    upstreamB = await FaultUpstream.start();
    clockA = new ManualClock();
    clockB = ownClock ? new ManualClock() : clockA;
    const replica = (upstream: FaultUpstream, clock: ManualClock) =>
      createTestApp(
        {
          imports: [
            leaseModule({
              client: { apiKey: 't', baseURL: upstream.baseURL },
              budget: { limits: { dailyUsd: LIMIT_MICRO / 1_000_000 }, leaseMs: LEASE_MS },
              storage: { database: store.database },
            }),
          ],
        },
        clock,
      );
    a = await replica(upstreamA, clockA);
    b = await replica(upstreamB, clockB);
  }

  const billed = () => [upstreamA, upstreamB].reduce((sum, upstream) => sum + upstream.stats().servedTokens.input + upstream.stats().servedTokens.output, 0);

  /** Starts A's two-request call and steps `clock` while its first request is in flight; A's answer comes later. */
  async function stepDuringCall(clock: ManualClock) {
    const answer = a.http().post('/two-requests').then((response) => response);
    await vi.waitFor(() => expect(upstreamA.stats().inFlight).toBe(1), { timeout: 10_000 });
    clock.advance(2 * LEASE_MS);
    return { answer };
  }

  /** B's calls once A waits between its requests; their statuses, sorted. */
  async function fillFromB(calls: number) {
    await vi.waitFor(() => expect(a.app.get(Gate).reached).toBe(true), { timeout: 10_000 });
    const responses = await Promise.all(Array.from({ length: calls }, () => b.http().post('/ask')));
    return responses.map((response) => response.status).sort();
  }

  async function assertNoOvershoot() {
    await vi.waitFor(async () => expect((await b.app.get(BudgetGuard).status()).windows[0].reservedMicroUsd).toBe(0));
    const [window] = (await b.app.get(BudgetGuard).status()).windows;
    // What the upstreams billed never passes the limit, and the ledger counts all of it, once.
    expect(billed()).toBeLessThanOrEqual(LIMIT_MICRO);
    expect(window.spentMicroUsd).toBe(billed());
    return window;
  }

  describe('the whole machine\'s clock steps (A and B share it)', () => {
    it('A renews before B collects: nothing expires, B gets only what A does not hold', async (context) => {
      await boot(context, false);
      const { answer } = await stepDuringCall(clockA);
      await a.app.get(BudgetGuard).renewLeases();
      expect(await b.app.get(BudgetGuard).expireLeases()).toBe(0);
      // A holds its first request's 32 of 192 (its second is reserved when it is sent): B fits 5 calls of 32.
      expect(await fillFromB(6)).toEqual([200, 200, 200, 200, 200, 429]);
      a.app.get(Gate).open();
      // The step took A past its deadline too: its second request is never sent.
      expect((await answer).status).toBe(504);
      expect(upstreamA.stats().totalRequests).toBe(1);
      expect(await assertNoOvershoot()).toMatchObject({ spentMicroUsd: LIMIT_MICRO });
    });

    it('B collects first: the request in flight is charged, only the unsent money returns', async (context) => {
      await boot(context, false);
      const { answer } = await stepDuringCall(clockA);
      expect(await b.app.get(BudgetGuard).expireLeases()).toBe(1);
      // A's first request (32, in flight) was charged; its unsent 32 went back: B fits 5 calls.
      expect(await fillFromB(6)).toEqual([200, 200, 200, 200, 200, 429]);
      a.app.get(Gate).open();
      expect((await answer).status).toBe(504);
      // A settled late: its expiry charge became what it really spent, counted once.
      expect(await assertNoOvershoot()).toMatchObject({ spentMicroUsd: LIMIT_MICRO });
    });
  });

  describe("only B's clock steps (another host)", () => {
    it("A's renewal cannot help; B collects, the request in flight is charged, and A reserves again before it sends more", async (context) => {
      await boot(context, true);
      const { answer } = await stepDuringCall(clockB);
      // A renews by its own clock: the lease still ended long ago by B's.
      await a.app.get(BudgetGuard).renewLeases();
      expect(await b.app.get(BudgetGuard).expireLeases()).toBe(1);
      expect(await fillFromB(6)).toEqual([200, 200, 200, 200, 200, 429]);
      a.app.get(Gate).open();
      // A's second request finds its reservation gone and the budget full: refused, never sent.
      const refused = await answer;
      expect(refused.status).toBe(429);
      expect(refused.body).toMatchObject({ code: 'budget_exhausted', scope: 'global', window: 'daily' });
      expect(upstreamA.stats().totalRequests).toBe(1);
      // A's unused first answer is waste; what the expiry charged for it was replaced by it, once.
      expect(await assertNoOvershoot()).toMatchObject({ spentMicroUsd: LIMIT_MICRO, wasteMicroUsd: TOKENS_PER_CALL });
    });
  });
});
