import type { Logger } from '@nestjs/common';
import { BudgetStoreUnavailableException } from './budget-store-unavailable.exception.js';
import type { ResolvedBudgetOptions } from './budget-options.interface.js';
import type { BudgetStore, BudgetWindowRow, BudgetWindowSnapshot } from './budget-store.interface.js';
import { withinStoreWait } from '../errors/store-wait.js';
import type { BudgetObserver } from './budget-observer.interface.js';
import { worstState } from './budget-state.js';
import type { BudgetStatus, BudgetWindowStatus } from './budget-status.interface.js';
import { describeWindow, snapshotOf, tightestOf, withFigures } from './budget-window-status.js';
import { LimitDriftLog } from './limit-drift-log.js';

/**
 * Windows read from the store, as users see them (and telemetry records them). A call's state is
 * measured against the limits this replica enforces; the budget view shows the stored ones, and
 * a stored limit that is not this replica's is logged, once per window.
 */
export class BudgetReadings {
  private readonly drift: LimitDriftLog;

  constructor(
    private readonly store: BudgetStore,
    private readonly budget: ResolvedBudgetOptions,
    private readonly observer: BudgetObserver | undefined,
    logger: Logger,
  ) {
    this.drift = new LimitDriftLog(logger);
  }

  /** The windows' state, ended leases collected first; 503 when the store does not answer within `waitMs`. */
  async status(scope: string, windows: readonly BudgetWindowRow[], now: number, waitMs: number): Promise<BudgetStatus> {
    const store = this.store;
    const read = await withinStoreWait(waitMs, async (signal) => {
      await store.expireLeases(now);
      signal.throwIfAborted();
      return store.readWindows(windows.map((w) => w.id));
    }).catch((error: unknown) => {
      throw new BudgetStoreUnavailableException(error);
    });
    const stored = new Map(read.map((w) => [w.id, w]));
    const statuses = this.describe(windows, windows.map((window) => stored.get(window.id) ?? { ...window, spentMicro: 0, reservedMicro: 0, wasteMicro: 0 }), 'stored');
    return { scope, state: worstState(statuses.map((s) => s.state)), windows: statuses };
  }

  /** The window of `windows` closest to this replica's limit, as it stands now. */
  async tightest(windows: readonly BudgetWindowRow[], waitMs: number): Promise<BudgetWindowStatus | undefined> {
    const snapshots = await withinStoreWait(waitMs, () => this.store.readWindows(windows.map((w) => w.id)));
    return tightestOf(this.describe(windows, snapshots, 'configured'));
  }

  /**
   * Tells the observer the windows as they stand against this replica's limits (a read made for
   * another purpose); a stored limit differs from this replica's only in `written`, the windows it wrote.
   */
  observe(configured: readonly BudgetWindowRow[], snapshots: readonly BudgetWindowSnapshot[], written: readonly BudgetWindowRow[]): void {
    this.drift.check(written, snapshots);
    if (!this.observer) return;
    this.observer.observeBudget(configured.map((window) => describeWindow(withFigures(window, snapshotOf(snapshots, window.id)), this.budget)));
  }

  describe(configured: readonly BudgetWindowRow[], snapshots: readonly BudgetWindowSnapshot[], limits: 'configured' | 'stored'): BudgetWindowStatus[] {
    this.drift.check(configured, snapshots);
    const own = new Map(configured.map((window) => [window.id, window.limitMicro]));
    const measured = limits === 'stored' ? snapshots : snapshots.map((window) => ({ ...window, limitMicro: own.get(window.id) ?? window.limitMicro }));
    const statuses = measured.map((window) => describeWindow(window, this.budget));
    this.observer?.observeBudget(statuses);
    return statuses;
  }
}
