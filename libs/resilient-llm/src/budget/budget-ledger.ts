import type { BudgetRefusal, BudgetStore, BudgetWindowRow, BudgetWindowSnapshot, LeaseRenewal, NewReservation, Settlement } from './budget-store.interface.js';
import { withinStoreWait } from '../errors/store-wait.js';
import { admissionRefusal, exhaustionOf, refusalFromSnapshots } from './budget-refusal.js';
import type { BudgetWindowCache } from './budget-window-cache.js';
import type { StoreWrite } from './deferred-store-writes.js';

/**
 * The guard's steps on the budget store, each one bounded: a wait given up on aborts the steps
 * still to come, so an abandoned call sends nothing more to the store.
 */
export class BudgetLedger {
  constructor(
    private readonly store: BudgetStore,
    private readonly windows: BudgetWindowCache,
  ) {}

  /**
   * Inserts a held row within `waitMs`, checked against this replica's limits (`windows`);
   * refuses with 429 naming the window that could not hold it, with the figures it was checked against.
   */
  async hold(row: NewReservation, windows: readonly BudgetWindowRow[], now: number, waitMs: number, afterAttempts?: number): Promise<void> {
    const store = this.store;
    await withinStoreWait(waitMs, async (signal) => {
      await this.ensureWindows(windows);
      signal.throwIfAborted();
      let outcome = await store.reserve(row);
      if (outcome === true) return;
      signal.throwIfAborted();
      // Expired leases hold money nobody will settle: give it back before refusing a call for want of it.
      if ((await store.expireLeases(now)) > 0) {
        signal.throwIfAborted();
        outcome = await store.reserve(row);
        if (outcome === true) return;
      }
      signal.throwIfAborted();
      const refusal = outcome || refusalFromSnapshots(await store.readWindows(row.windowIds), windows, row.amountMicro);
      throw exhaustionOf(refusal, windows, row.amountMicro, now, afterAttempts);
    });
  }

  /** Renews leases and raises money in flight within `waitMs`; the ids the store still holds. */
  async renew(renewals: LeaseRenewal[], leaseExpiresAt: number, waitMs: number): Promise<Set<string>> {
    return new Set(await withinStoreWait(waitMs, () => this.store.renewLeases(renewals, leaseExpiresAt)));
  }

  /** The windows as they stand, within `waitMs` (or a store error). */
  read(windowIds: string[], waitMs: number): Promise<BudgetWindowSnapshot[]> {
    return withinStoreWait(waitMs, () => this.store.readWindows(windowIds));
  }

  /**
   * The windows as a call about to run sees them (one read, within `waitMs`), and why they cannot
   * take it (see `admissionRefusal`), if they cannot after expired leases gave their money back.
   * `seen` adjusts what was read (escrow: this replica's idle slice money is there for its calls).
   */
  async admission(
    windows: readonly BudgetWindowRow[],
    estimateMicro: number,
    now: number,
    waitMs: number,
    seen: (snapshots: BudgetWindowSnapshot[]) => BudgetWindowSnapshot[] = (snapshots) => snapshots,
  ): Promise<{ snapshots: BudgetWindowSnapshot[]; refusal?: BudgetRefusal }> {
    const store = this.store;
    const ids = windows.map((window) => window.id);
    return withinStoreWait(waitMs, async (signal) => {
      let snapshots = seen(await store.readWindows(ids));
      let refusal = admissionRefusal(snapshots, windows, estimateMicro);
      if (!refusal) return { snapshots };
      signal.throwIfAborted();
      // Expired leases hold money nobody will settle: give it back before refusing a call for want of it.
      if ((await store.expireLeases(now)) === 0) return { snapshots, refusal };
      signal.throwIfAborted();
      snapshots = seen(await store.readWindows(ids));
      refusal = admissionRefusal(snapshots, windows, estimateMicro);
      return { snapshots, refusal };
    });
  }

  /** The windows as they stand; none when the store does not answer within `waitMs` (a snapshot is never worth failing a call for). */
  snapshot(windowIds: string[], waitMs: number): Promise<BudgetWindowSnapshot[]> {
    return this.read(windowIds, waitMs).catch(() => []);
  }

  settlement(rowId: string, settlement: Settlement): StoreWrite {
    return { run: async () => void (await this.store.settle(rowId, settlement)), description: `settlement of ${rowId}` };
  }

  /** Settles a row whether or not its insert landed (it timed out, or the call was admitted without the store). */
  unconfirmedSettlement(row: NewReservation, windows: readonly BudgetWindowRow[], settlement: Settlement): StoreWrite {
    return {
      run: async () => {
        // Its windows may not be in the store yet (the store was down from the start).
        await this.ensureWindows(windows);
        await this.store.settleUnconfirmed(row, settlement);
      },
      description: `settlement of ${row.id} (not confirmed by the store)`,
    };
  }

  private async ensureWindows(windows: readonly BudgetWindowRow[]): Promise<void> {
    const missing = this.windows.notStored(windows);
    if (missing.length === 0) return;
    await this.store.upsertWindows(missing);
    this.windows.markStored(missing);
  }
}
