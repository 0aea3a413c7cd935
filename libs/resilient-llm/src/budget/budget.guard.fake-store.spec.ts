import { Logger } from '@nestjs/common';
import { isBudgetExhaustedException } from './budget-exhausted.exception.js';
import { isBudgetStoreUnavailableException } from './budget-store-unavailable.exception.js';
import type { BudgetStore } from './budget-store.interface.js';
import type { ResilientLlmModuleOptions } from '../module/resilient-llm-options.interface.js';
import { resolveModuleOptions } from '../module/resilient-llm-options.validation.js';
import { ResilientLlmTelemetry } from '../telemetry/resilient-llm.telemetry.js';
import { InMemoryBudgetStore } from '../testing/in-memory-budget.store.js';
import { ManualClock } from '../testing/manual-clock.js';
import { BudgetGuard } from './budget.guard.js';

/** The fake, which throws while `down` is set: a store that is unreachable. */
class FlakyStore implements BudgetStore {
  down = false;
  constructor(private readonly inner: BudgetStore) {}

  private call<K extends keyof BudgetStore>(method: K, args: Parameters<BudgetStore[K]>): ReturnType<BudgetStore[K]> {
    if (this.down) return Promise.reject(new Error('connect ECONNREFUSED')) as ReturnType<BudgetStore[K]>;
    return (this.inner[method] as (...a: unknown[]) => ReturnType<BudgetStore[K]>)(...args);
  }
  upsertWindows = (...args: Parameters<BudgetStore['upsertWindows']>) => this.call('upsertWindows', args);
  reserve = (...args: Parameters<BudgetStore['reserve']>) => this.call('reserve', args);
  settle = (...args: Parameters<BudgetStore['settle']>) => this.call('settle', args);
  settleUnconfirmed = (...args: Parameters<BudgetStore['settleUnconfirmed']>) => this.call('settleUnconfirmed', args);
  renewLeases = (...args: Parameters<BudgetStore['renewLeases']>) => this.call('renewLeases', args);
  expireLeases = (...args: Parameters<BudgetStore['expireLeases']>) => this.call('expireLeases', args);
  readWindows = (...args: Parameters<BudgetStore['readWindows']>) => this.call('readWindows', args);
}

const MODEL = 'gpt-4o-mini';

describe('BudgetGuard on the in-memory budget store', () => {
  let store: FlakyStore;
  let clock: ManualClock;

  beforeEach(() => {
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    store = new FlakyStore(new InMemoryBudgetStore());
    clock = new ManualClock();
  });
  afterEach(() => vi.restoreAllMocks());

  /** $1 a day for everyone, $0.10 a day per tenant. */
  function guardWith(budget: ResilientLlmModuleOptions['budget'] = {}) {
    const resolved = resolveModuleOptions({ budget: { limits: { dailyUsd: 1 }, scopeLimits: { dailyUsd: 0.1 }, ...budget }, storage: { database: ':memory:', maxWaitMs: 50 } });
    return { guard: new BudgetGuard(resolved, store, clock, new ResilientLlmTelemetry(resolved, clock)), leaseMs: resolved.budget.leaseMs };
  }

  const daily = async (guard: BudgetGuard, scopeKey?: string) => {
    const window = (await guard.status(scopeKey)).windows.find((w) => w.scope === (scopeKey ?? 'global'))!;
    return { spentMicro: window.spentMicroUsd, reservedMicro: window.reservedMicroUsd, wasteMicro: window.wasteMicroUsd };
  };

  it('holds a reservation, and refuses one that does not fit with a 429 naming the figures the store saw', async () => {
    const { guard } = guardWith();
    await guard.reserve({ amountMicro: 600_000, model: MODEL });
    const refusal = await guard.reserve({ amountMicro: 500_000, model: MODEL }).catch((error: unknown) => error);
    expect(isBudgetExhaustedException(refusal)).toBe(true);
    const exhausted = refusal as Parameters<typeof isBudgetExhaustedException>[0] & { getStatus(): number; getResponse(): object; retryAfterSeconds: number };
    expect(exhausted.getStatus()).toBe(429);
    expect(exhausted.getResponse()).toMatchObject({
      code: 'budget_exhausted',
      scope: 'global',
      window: 'daily',
      limitUsd: 1,
      spentUsd: 0,
      reservedUsd: 0.6,
      requestedUsd: 0.5,
      resetsAt: '2026-01-02T00:00:00.000Z',
    });
    expect(exhausted.retryAfterSeconds).toBe(86_400);
    expect(await daily(guard)).toEqual({ spentMicro: 0, reservedMicro: 600_000, wasteMicro: 0 });
  });

  it("refuses for the tenant's window when that is the one that cannot hold the call, and holds nothing anywhere", async () => {
    const { guard } = guardWith();
    await guard.reserve({ scopeKey: 'acme', amountMicro: 80_000, model: MODEL });
    const refusal = await guard.reserve({ scopeKey: 'acme', amountMicro: 30_000, model: MODEL }).catch((error: unknown) => error);
    expect((refusal as { getResponse(): object }).getResponse()).toMatchObject({ scope: 'acme', limitUsd: 0.1, reservedUsd: 0.08, requestedUsd: 0.03 });
    expect(await daily(guard)).toMatchObject({ reservedMicro: 80_000 });
  });

  it('tops a reservation up, all of it in flight, and refuses a top-up that does not fit', async () => {
    const { guard, leaseMs } = guardWith();
    const reservation = await guard.reserve({ amountMicro: 300_000, model: MODEL });
    await guard.topUp(reservation, 200_000);
    expect(guard.heldMicro(reservation)).toBe(500_000);
    expect(await daily(guard)).toMatchObject({ reservedMicro: 500_000 });
    await expect(guard.topUp(reservation, 600_000)).rejects.toSatisfy(isBudgetExhaustedException);
    // The top-up was marked in flight at once: a process that dies now is charged for it when its lease ends.
    clock.advance(leaseMs + 1);
    expect(await guard.expireLeases()).toBe(2);
    expect(await daily(guard)).toEqual({ spentMicro: 200_000, reservedMicro: 0, wasteMicro: 200_000 });
  });

  it('settles at the real price, above the estimate too, once however often it is settled', async () => {
    const { guard } = guardWith();
    const reservation = await guard.reserve({ amountMicro: 300_000, model: MODEL });
    await guard.topUp(reservation, 100_000);
    await guard.settle(reservation, { succeeded: true, actualMicro: 450_000, wasteMicro: 50_000 });
    await guard.settle(reservation, { succeeded: true, actualMicro: 450_000, wasteMicro: 50_000 });
    expect(await daily(guard)).toEqual({ spentMicro: 450_000, reservedMicro: 0, wasteMicro: 50_000 });

    const failed = await guard.reserve({ amountMicro: 100_000, model: MODEL });
    await guard.settle(failed, { succeeded: false, actualMicro: 10_000, wasteMicro: 10_000 });
    expect(await daily(guard)).toEqual({ spentMicro: 460_000, reservedMicro: 0, wasteMicro: 60_000 });
  });

  it('admits a call when spent + estimate fits and something is left, counting the estimate as held, and holds nothing', async () => {
    const { guard } = guardWith();
    // The windows are in the store once a call has reserved in them (admission reads, it never creates them).
    await guard.settle(await guard.reserve({ amountMicro: 1, model: MODEL }), { succeeded: false, actualMicro: 0, wasteMicro: 0 });
    expect(await guard.checkAdmission({ estimateMicro: 100_000 })).toBe('healthy');
    expect(await guard.checkAdmission({ estimateMicro: 850_000 })).toBe('critical');
    expect(await guard.checkAdmission({ estimateMicro: 1_000_000 })).toBe('exhausted');
    expect(await daily(guard)).toEqual({ spentMicro: 0, reservedMicro: 0, wasteMicro: 0 });
  });

  it('refuses admission when spent + estimate passes the limit, or when spent + reserved leaves nothing', async () => {
    const { guard } = guardWith();
    const spent = await guard.reserve({ amountMicro: 700_000, model: MODEL });
    await guard.settle(spent, { succeeded: true, actualMicro: 700_000, wasteMicro: 0 });
    await expect(guard.checkAdmission({ estimateMicro: 300_001 })).rejects.toSatisfy(isBudgetExhaustedException);
    expect(await guard.checkAdmission({ estimateMicro: 300_000 })).toBe('exhausted');

    await guard.reserve({ amountMicro: 300_000, model: MODEL });
    const refusal = await guard.checkAdmission({ estimateMicro: 1 }).catch((error: unknown) => error);
    expect((refusal as { getResponse(): object }).getResponse()).toMatchObject({ spentUsd: 0.7, reservedUsd: 0.3, requestedUsd: 0.000001 });
  });

  it('gives back the money of expired leases before refusing, charging what they had in flight', async () => {
    const { guard, leaseMs } = guardWith();
    await guard.reserve({ amountMicro: 1_000_000, model: MODEL, inFlightMicro: 300_000 });
    await expect(guard.checkAdmission({ estimateMicro: 100_000 })).rejects.toSatisfy(isBudgetExhaustedException);
    clock.advance(leaseMs + 1);
    expect(await guard.checkAdmission({ estimateMicro: 100_000 })).toBe('healthy');
    expect(await daily(guard)).toEqual({ spentMicro: 300_000, reservedMicro: 0, wasteMicro: 300_000 });

    const dying = await guard.reserve({ amountMicro: 700_000, model: MODEL });
    clock.advance(leaseMs + 1);
    await guard.reserve({ amountMicro: 600_000, model: MODEL });
    expect(guard.heldMicro(dying)).toBe(700_000); // the guard has not renewed it: only the store knows it ended
    expect(await daily(guard)).toEqual({ spentMicro: 300_000, reservedMicro: 600_000, wasteMicro: 300_000 });
  });

  it('fail-closed: refuses with 503 while the store is down, and admits again once it is back', async () => {
    const { guard } = guardWith();
    store.down = true;
    await expect(guard.reserve({ amountMicro: 1, model: MODEL })).rejects.toSatisfy(isBudgetStoreUnavailableException);
    await expect(guard.checkAdmission({ estimateMicro: 1 })).rejects.toSatisfy(isBudgetStoreUnavailableException);
    store.down = false;
    await guard.reserve({ amountMicro: 5, model: MODEL });
    expect(await daily(guard)).toMatchObject({ reservedMicro: 5 });
  });

  it('fail-open: admits while the store is down, and records the spend once when the store is back', async () => {
    const { guard } = guardWith({ onStoreError: 'fail-open' });
    store.down = true;
    expect(await guard.checkAdmission({ estimateMicro: 1 })).toBe('healthy');
    const reservation = await guard.reserve({ amountMicro: 200_000, model: MODEL });
    expect(reservation).toMatchObject({ recorded: false, rows: [{ amountMicro: 200_000, recorded: false }] });
    store.down = false;
    await guard.settle(reservation, { succeeded: true, actualMicro: 150_000, wasteMicro: 0 });
    await guard.settle(reservation, { succeeded: true, actualMicro: 150_000, wasteMicro: 0 });
    expect(await daily(guard)).toEqual({ spentMicro: 150_000, reservedMicro: 0, wasteMicro: 0 });
  });
});
