import { Logger } from '@nestjs/common';
import { isBudgetStoreUnavailableException } from './budget-store-unavailable.exception.js';
import type { ResilientLlmModuleOptions } from '../module/resilient-llm-options.interface.js';
import { resolveModuleOptions } from '../module/resilient-llm-options.validation.js';
import type { BudgetStore, NewReservation, Settlement } from './budget-store.interface.js';
import { ResilientLlmStorage } from '../storage/resilient-llm-storage.js';
import { TypeOrmBudgetStore } from '../storage/typeorm-budget.store.js';
import { ResilientLlmTelemetry } from '../telemetry/resilient-llm.telemetry.js';
import { ManualClock } from '../testing/manual-clock.js';
import { BudgetGuard } from './budget.guard.js';
import { MAX_CACHED_SCOPES } from './budget-window-cache.js';

/** The real SQLite store, whose `reserve` and `settleUnconfirmed` can be held back: a database that answers late. */
class LateStore implements BudgetStore {
  private readonly gates = new Map<'reserve' | 'settleUnconfirmed', Promise<void>>();
  readonly landed: string[] = [];

  constructor(private readonly inner: TypeOrmBudgetStore) {}

  /** Holds the method's calls until the returned function is called. */
  holdBack(method: 'reserve' | 'settleUnconfirmed'): () => void {
    let open!: () => void;
    this.gates.set(method, new Promise<void>((resolve) => (open = resolve)));
    return open;
  }

  async reserve(reservation: NewReservation) {
    await this.gates.get('reserve');
    const held = await this.inner.reserve(reservation);
    this.landed.push(reservation.id);
    return held;
  }
  async settleUnconfirmed(reservation: NewReservation, settlement: Settlement) {
    await this.gates.get('settleUnconfirmed');
    return this.inner.settleUnconfirmed(reservation, settlement);
  }
  upsertWindows = (...args: Parameters<BudgetStore['upsertWindows']>) => this.inner.upsertWindows(...args);
  settle = (...args: Parameters<BudgetStore['settle']>) => this.inner.settle(...args);
  expireLeases = (...args: Parameters<BudgetStore['expireLeases']>) => this.inner.expireLeases(...args);
  renewLeases = (...args: Parameters<BudgetStore['renewLeases']>) => this.inner.renewLeases(...args);
  readWindows = (...args: Parameters<BudgetStore['readWindows']>) => this.inner.readWindows(...args);
}

describe('BudgetGuard when the store answers late', () => {
  let storage: ResilientLlmStorage;
  let store: LateStore;

  beforeEach(async () => {
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    storage = await ResilientLlmStorage.open(resolveModuleOptions({ storage: { database: ':memory:' } }).storage);
    store = new LateStore(new TypeOrmBudgetStore(storage.dataSource));
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await storage.close();
  });

  function guardWith(options: ResilientLlmModuleOptions, budgetStore: BudgetStore = store) {
    const resolved = resolveModuleOptions({ budget: { limits: { dailyUsd: 1 } }, ...options, storage: { database: ':memory:', maxWaitMs: 20, ...options.storage } });
    const clock = new ManualClock();
    return new BudgetGuard(resolved, budgetStore, clock, new ResilientLlmTelemetry(resolved, clock));
  }

  const windowTotals = async (guard: BudgetGuard) => {
    const [daily] = (await guard.status()).windows;
    return { reservedMicro: daily.reservedMicroUsd, spentMicro: daily.spentMicroUsd };
  };

  it.each([
    ['before the release', true],
    ['after the release', false],
  ])('fail-closed: a reservation whose insert lands %s, after the call was refused, holds nothing', async (_, insertFirst) => {
    const guard = guardWith({});
    await guard.reserve({ amountMicro: 1, model: 'gpt-4o-mini' }); // the windows are in the store
    const landInsert = store.holdBack('reserve');
    const landRelease = store.holdBack('settleUnconfirmed');

    const refusal = await guard.reserve({ amountMicro: 300, model: 'gpt-4o-mini' }).catch((error: unknown) => error);
    expect(isBudgetStoreUnavailableException(refusal)).toBe(true);

    if (insertFirst) {
      landInsert();
      await vi.waitFor(() => expect(store.landed).toHaveLength(2));
      expect(await windowTotals(guard)).toEqual({ reservedMicro: 301, spentMicro: 0 });
      landRelease();
    } else {
      landRelease();
      await new Promise((resolve) => setTimeout(resolve, 10));
      landInsert();
    }
    await vi.waitFor(async () => expect(await windowTotals(guard)).toEqual({ reservedMicro: 1, spentMicro: 0 }));
  });

  it('fail-open: the call goes on, and its spend lands once whether or not its insert did', async () => {
    const guard = guardWith({ budget: { limits: { dailyUsd: 1 }, onStoreError: 'fail-open' } });
    const landInsert = store.holdBack('reserve');
    const reservation = await guard.reserve({ amountMicro: 300, model: 'gpt-4o-mini' });
    expect(reservation).toMatchObject({ recorded: false, rows: [{ amountMicro: 300, recorded: false }] });
    await guard.topUp(reservation, 200);
    landInsert();
    await vi.waitFor(() => expect(store.landed).toHaveLength(1));

    await guard.settle(reservation, { succeeded: true, actualMicro: 420, wasteMicro: 20 });
    await guard.settle(reservation, { succeeded: true, actualMicro: 420, wasteMicro: 20 }); // a retried settlement
    expect(await windowTotals(guard)).toEqual({ reservedMicro: 0, spentMicro: 420 });
  });

  describe('with a store that never answers', () => {
    const hanging = new Proxy({} as BudgetStore, { get: () => () => new Promise(() => undefined) });
    beforeEach(() => vi.useFakeTimers());
    afterEach(() => vi.useRealTimers());

    it("waits no longer than the call's deadline when it is nearer than storage.maxWaitMs", async () => {
      const guard = guardWith({ storage: { maxWaitMs: 60_000 } }, hanging);
      const now = Date.UTC(2026, 0, 1); // the ManualClock's start
      const outcome = guard.reserve({ amountMicro: 1, model: 'gpt-4o-mini', deadlineAtMs: now + 300 }).catch((error: unknown) => error);
      await vi.advanceTimersByTimeAsync(299);
      await vi.advanceTimersByTimeAsync(1);
      expect(isBudgetStoreUnavailableException(await outcome)).toBe(true);
    });

    it('settles within storage.maxWaitMs, keeping the settlement for later', async () => {
      const guard = guardWith({ storage: { maxWaitMs: 250 } }, hanging);
      const reservation = { windows: [], rows: [], model: 'm', state: 'healthy' as const, recorded: true };
      const windows = guard['windowsFor'](undefined, Date.UTC(2026, 0, 1));
      const settled = guard.settle({ ...reservation, windows, rows: [{ id: 'r', amountMicro: 5 }] }, { succeeded: true, actualMicro: 5, wasteMicro: 0 });
      await vi.advanceTimersByTimeAsync(250);
      await settled;
      expect(guard['failures'].deferred.size).toBe(1);
    });
  });

  it(`keeps its caches bounded, however many tenants come (${MAX_CACHED_SCOPES} scopes at most)`, async () => {
    const instant = { upsertWindows: async () => undefined, reserve: async () => true, readWindows: async () => [] };
    const guard = guardWith({ budget: { scopeLimits: { dailyUsd: 1, monthlyUsd: 20 } } }, instant as unknown as BudgetStore);
    for (let tenant = 0; tenant < MAX_CACHED_SCOPES + 500; tenant++) await guard.reserve({ scopeKey: `tenant-${tenant}`, amountMicro: 1, model: 'gpt-4o-mini' });
    expect(guard['windows'].size).toEqual({ scopes: MAX_CACHED_SCOPES, storedWindows: 2 * MAX_CACHED_SCOPES });
  });
});
