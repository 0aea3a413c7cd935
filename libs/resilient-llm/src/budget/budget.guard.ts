import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnModuleInit, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { BudgetExhaustedException } from './budget-exhausted.exception.js';
import { BudgetStoreUnavailableException } from './budget-store-unavailable.exception.js';
import { InjectBudgetSettings, InjectClock } from '../resilient-llm.constants.js';
import { type BudgetStore, type BudgetWindowRow, type NewReservation, RESILIENT_LLM_BUDGET_STORE } from './budget-store.interface.js';
import { storeRefusedStatement } from '../errors/store-failure.js';
import { withinStoreWait } from '../errors/store-wait.js';
import type { Clock } from '../time/clock.interface.js';
import { BudgetLedger } from './budget-ledger.js';
import type { BudgetSettings } from './budget-options.interface.js';
import { type BudgetObserver, RESILIENT_LLM_BUDGET_OBSERVER } from './budget-observer.interface.js';
import { BudgetReadings } from './budget-readings.js';
import { exhaustionOf } from './budget-refusal.js';
import { GLOBAL_SCOPE, scopeIdOf } from './budget-scope.js';
import { type BudgetState, worstState } from './budget-state.js';
import type { BudgetReservation, BudgetStatus, BudgetWindowStatus } from './budget-status.interface.js';
import { BudgetWindowCache } from './budget-window-cache.js';
import { describeWindow, stateWithEstimate, tightestOf } from './budget-window-status.js';
import { coveredMicro } from './in-flight-marks.js';
import { LeaseKeeper } from './lease-keeper.js';
import { BudgetMaintenance } from './budget-maintenance.js';
import { BudgetEscrow } from './escrow/budget-escrow.js';
import { scopeWindowsAt } from './scope-windows.js';
import { type CallSettlement, settlementWrites } from './settlement-writes.js';
import { StoreFailures } from './store-failures.js';
import { newReservationRow, reservationOf } from './reservation-row.js';

/**
 * Spend limits per calendar window and scope, kept in the budget store. `checkAdmission` reads a
 * call's windows before its body; `reserve` and `topUp` hold each request's worst case before it
 * is sent (or refuse with 429), against this replica's limits; settling moves it to spent at the
 * real price. A lease a live call renews ends what a dead process held, charging what was in
 * flight. No wait for the store outlasts `storage.maxWaitMs` (or the call's deadline): then 503,
 * or admitted with `budget.onStoreError: 'fail-open'`. With `budget.escrow`, slices serve it all.
 */
@Injectable()
export class BudgetGuard implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('BudgetGuard');
  private readonly windows = new BudgetWindowCache();
  private readonly failures: StoreFailures;
  private readonly ledger?: BudgetLedger;
  private readonly readings?: BudgetReadings;
  private readonly leases?: LeaseKeeper;
  private readonly escrow?: BudgetEscrow;
  private readonly maxWaitMs: number;
  private readonly maintenance = new BudgetMaintenance(async () => {
    await this.failures.deferred.flush(this.maxWaitMs);
    await this.expireLeases();
    this.windows.prune(this.clock.now());
  }, this.logger);

  constructor(
    @InjectBudgetSettings() private readonly options: BudgetSettings,
    @Optional() @Inject(RESILIENT_LLM_BUDGET_STORE) private readonly store: BudgetStore | null,
    @InjectClock() private readonly clock: Clock,
    @Optional() @Inject(RESILIENT_LLM_BUDGET_OBSERVER) private readonly observer?: BudgetObserver,
  ) {
    this.maxWaitMs = options.storage.maxWaitMs;
    this.failures = new StoreFailures(this.logger, options.budget.failOpen);
    const ledger = (this.ledger = store ? new BudgetLedger(store, this.windows) : undefined);
    this.readings = store ? new BudgetReadings(store, options.budget, observer, this.logger) : undefined;
    this.leases = ledger && new LeaseKeeper(ledger, clock, options.budget.leaseMs, options.storage.maxWaitMs, this.failures);
    this.escrow = BudgetEscrow.when(options, ledger, this.readings, clock, this.failures);
  }

  /** True when limits are configured (and a store holds them). */
  get enabled(): boolean {
    return this.options.budget.enabled && !!this.store;
  }

  onModuleInit(): void {
    if (!this.enabled) return;
    // A live call's rows are renewed four times per lease (in real time), and leases ended elsewhere are collected.
    const every = Math.min(30_000, Math.max(250, this.options.budget.leaseMs / 4));
    this.maintenance.start(every);
    this.leases?.start(every);
    this.escrow?.start();
  }

  /** Before the store closes (on application shutdown): writes that waited for it get one more try. */
  async beforeApplicationShutdown(): Promise<void> {
    this.maintenance.stop();
    this.leases?.stop();
    await this.escrow?.returnAll();
    await this.failures.deferred.flush(this.maxWaitMs);
  }

  /**
   * Holds `amountMicro` in every window of the global scope and of `scopeKey`, or throws 429 / 503;
   * `inFlightMicro` of it is marked in flight at once (a request about to be sent). With `knownState`
   * (read on admission) the windows are not read again, and the reservation carries no figures.
   */
  async reserve(request: { scopeKey?: string; amountMicro: number; model: string; deadlineAtMs?: number; inFlightMicro?: number; knownState?: BudgetState }): Promise<BudgetReservation> {
    const now = this.clock.now();
    const windows = this.windowsFor(request.scopeKey, now);
    if (windows.length === 0 || !this.ledger) return reservationOf(request, windows, [], 'healthy', true);
    if (this.escrow) return this.escrow.reserve(request, windows, this.waitFor(request.deadlineAtMs));
    const inFlightMicro = Math.min(request.inFlightMicro ?? 0, request.amountMicro);
    const row = newReservationRow(this.options.budget.leaseMs, windows, request.scopeKey, request.model, request.amountMicro, now, inFlightMicro);
    try {
      await this.ledger.hold(row, windows, now, this.waitFor(request.deadlineAtMs));
      this.failures.recovered();
    } catch (error) {
      if (error instanceof BudgetExhaustedException) throw error;
      if (!this.failures.admitsDespite(error)) {
        this.releaseIfLanded(row, windows, error);
        throw new BudgetStoreUnavailableException(error);
      }
      // Admitted without a confirmed row: the settlement records the spend on this row, whether its insert landed or not.
      return reservationOf(request, windows, [{ id: row.id, amountMicro: row.amountMicro, recorded: false }], 'healthy', false);
    }
    const statuses = request.knownState ? [] : this.readings!.describe(windows, await this.ledger.snapshot(row.windowIds, this.waitFor(request.deadlineAtMs)), 'configured');
    const state = request.knownState ?? worstState(statuses.map((w) => w.state));
    const reservation = reservationOf(request, windows, [{ id: row.id, amountMicro: row.amountMicro, inFlightMicro }], state, true, tightestOf(statuses));
    this.leases?.keep(reservation);
    return reservation;
  }

  /**
   * Before a call's body runs: 429 when a window of its scope cannot take it (`admissionRefusal`),
   * 503 when the store does not answer; with escrow, no read while a slice has the estimate (or is taken for it).
   * Holds nothing: each request's exact worst case is reserved before it is sent. The state counts
   * the estimate as held (a call past critical runs strict).
   */
  async checkAdmission(request: { scopeKey?: string; estimateMicro: number; deadlineAtMs?: number }): Promise<BudgetState> {
    const now = this.clock.now();
    const windows = this.windowsFor(request.scopeKey, now);
    if (windows.length === 0 || !this.ledger) return 'healthy';
    const escrow = this.escrow;
    const fromSlice = escrow && (escrow.admitsFromSlice(windows, request.estimateMicro) ?? (await escrow.admitsAfterRefill(windows, request.scopeKey, request.estimateMicro, this.waitFor(request.deadlineAtMs))));
    if (fromSlice) return fromSlice;
    const seen = await this.ledger.admission(windows, request.estimateMicro, now, this.waitFor(request.deadlineAtMs), this.escrow?.withoutIdle).then(
      (read) => (this.failures.recovered(), read),
      (error: unknown) => this.failures.admitOrRefuse(error),
    );
    if (seen?.refusal) throw exhaustionOf(seen.refusal, windows, request.estimateMicro, now);
    if (!seen) return 'healthy';
    this.readings!.observe(windows, seen.snapshots, this.windows.written(windows));
    return stateWithEstimate(windows, seen.snapshots, request.estimateMicro, this.options.budget);
  }

  /** Adds `extraMicro` to a reservation (a request needs more than was held), all of it in flight, or throws 429 / 503. */
  async topUp(reservation: BudgetReservation, extraMicro: number, afterAttempts?: number, deadlineAtMs?: number): Promise<void> {
    if (!this.ledger || reservation.windows.length === 0 || extraMicro <= 0) return;
    if (!reservation.recorded) {
      // Admitted without the store: its one unconfirmed row, settled at the end, just covers more.
      const [row] = reservation.rows;
      if (row) row.amountMicro += extraMicro;
      else reservation.rows.push({ id: randomUUID(), amountMicro: extraMicro, recorded: false });
      return;
    }
    if (this.escrow?.owns(reservation)) return this.escrow.topUp(reservation, extraMicro, this.waitFor(deadlineAtMs), afterAttempts);
    const now = this.clock.now();
    const row = newReservationRow(this.options.budget.leaseMs, reservation.windows, reservation.scopeKey, reservation.model, extraMicro, now, extraMicro);
    try {
      await this.ledger.hold(row, reservation.windows, now, this.waitFor(deadlineAtMs), afterAttempts);
      this.failures.recovered();
      reservation.rows.push({ id: row.id, amountMicro: extraMicro, inFlightMicro: extraMicro });
      this.leases?.keep(reservation);
    } catch (error) {
      if (error instanceof BudgetExhaustedException) throw error;
      const admitted = this.failures.admitsDespite(error);
      // Settled with the call's other rows: an admitted row carries its share of the spend, a refused one may have landed.
      if (admitted || !storeRefusedStatement(error)) reservation.rows.push({ id: row.id, amountMicro: extraMicro, recorded: false });
      if (!admitted) throw new BudgetStoreUnavailableException(error);
    }
  }

  /** What the reservation covers: what its live rows hold, plus what the leases that ended charged. */
  heldMicro(reservation: BudgetReservation): number {
    return coveredMicro(reservation.rows);
  }

  /**
   * Tells the store that `exposureMicro` of the call (spent, and sent or about to be) is in flight,
   * renewing its leases, before a request is sent: if the process dies, its expiry charges that
   * much. False when a row's lease turned out to have ended: the call must top up and mark again.
   */
  markInFlight(reservation: BudgetReservation, exposureMicro: number, options: { deadlineAtMs?: number; renew?: boolean } = {}): Promise<boolean> {
    if (this.escrow?.owns(reservation)) return this.escrow.mark(reservation, exposureMicro, this.waitFor(options.deadlineAtMs));
    return this.leases?.mark(reservation, exposureMicro, this.waitFor(options.deadlineAtMs), options.renew) ?? Promise.resolve(true);
  }

  /** Renews the leases of every call in flight now, and of escrow slices (a timer does it every quarter lease). */
  async renewLeases(): Promise<void> {
    await Promise.all([this.leases?.renewAll(), this.escrow?.renew()]);
  }

  /** With `budget.escrow`: settles this replica's slices now (their unused money returns), once their calls have settled. */
  async returnSlices(): Promise<void> {
    await this.escrow?.returnAll(false);
  }

  /**
   * Settles a call: its rows move from reserved to spent at `actualMicro` (which may exceed
   * what was held: real spend is recorded, never dropped). Waits for the store at most
   * `storage.maxWaitMs`; what it could not write is retried later, and until then the lease
   * keeps the money held.
   */
  async settle(reservation: BudgetReservation, outcome: CallSettlement): Promise<void> {
    this.leases?.release(reservation);
    if (this.escrow?.owns(reservation)) return this.escrow.settle(reservation, outcome);
    if (!this.ledger || reservation.windows.length === 0) return;
    const settledAt = this.clock.now();
    const writes = settlementWrites(this.ledger, reservation, outcome, settledAt, (id, amountMicro) =>
      newReservationRow(this.options.budget.leaseMs, reservation.windows, reservation.scopeKey, reservation.model, amountMicro, settledAt, 0, id),
    );
    await this.failures.write(writes, this.maxWaitMs);
  }

  /** State, spent, reserved and limit of every window of the global scope and of `scopeKey`; 503 when the store does not answer. */
  async status(scopeKey?: string): Promise<BudgetStatus> {
    const now = this.clock.now();
    const windows = this.windowsFor(scopeKey, now);
    const scope = scopeKey ?? GLOBAL_SCOPE;
    if (this.readings) return this.readings.status(scope, windows, now, this.maxWaitMs);
    const statuses = windows.map((window) => describeWindow({ ...window, spentMicro: 0, reservedMicro: 0, wasteMicro: 0 }, this.options.budget));
    this.observer?.observeBudget(statuses);
    return { scope, state: worstState(statuses.map((s) => s.state)), windows: statuses };
  }

  /** The reservation's window closest to its limit, as it stands now (one read, within `storage.maxWaitMs`). */
  async tightestWindow(reservation: BudgetReservation): Promise<BudgetWindowStatus | undefined> {
    return this.readings && reservation.windows.length > 0 ? this.readings.tightest(reservation.windows, this.maxWaitMs) : undefined;
  }

  /** Ends the reservations whose lease has ended (charging what they had in flight); how many there were. */
  async expireLeases(): Promise<number> {
    return this.store ? withinStoreWait(this.maxWaitMs, () => this.store!.expireLeases(this.clock.now())) : 0;
  }

  /** How long a call may wait for the store: `storage.maxWaitMs`, or less when its deadline is nearer. */
  private waitFor(deadlineAtMs: number | undefined): number {
    const untilDeadline = deadlineAtMs === undefined ? Number.POSITIVE_INFINITY : deadlineAtMs - this.clock.now();
    return Math.max(1, Math.min(this.maxWaitMs, untilDeadline));
  }

  /** A refused call's reservation whose insert may still land (a timeout): released in the background. */
  private releaseIfLanded(row: NewReservation, windows: readonly BudgetWindowRow[], error: unknown): void {
    if (storeRefusedStatement(error)) return;
    const released = { state: 'released' as const, actualMicro: 0, wasteMicro: 0, settledAt: this.clock.now() };
    void this.failures.deferred.runWithin([this.ledger!.unconfirmedSettlement(row, windows, released)], this.maxWaitMs);
  }

  private windowsFor(scopeKey: string | undefined, now: number): BudgetWindowRow[] {
    const scope = scopeKey === undefined ? '' : scopeIdOf(scopeKey);
    return this.windows.windowsFor(scope, now, () => scopeWindowsAt(this.options.budget, scopeKey, now));
  }
}
