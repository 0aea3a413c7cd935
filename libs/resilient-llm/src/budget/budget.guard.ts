import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnModuleInit, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { BudgetExhaustedException } from '../errors/budget-exhausted.exception.js';
import { BudgetStoreUnavailableException } from '../errors/budget-store-unavailable.exception.js';
import { isStoreFileReplacedError } from '../errors/store-file-replaced.error.js';
import type { ResolvedResilientLlmOptions } from '../module/resilient-llm-options.interface.js';
import { InjectClock, InjectResilientLlmOptions } from '../resilient-llm.constants.js';
import { type BudgetStore, type BudgetWindowRow, type BudgetWindowSnapshot, type NewReservation, RESILIENT_LLM_BUDGET_STORE } from '../storage/budget-store.interface.js';
import { storeRefusedStatement } from '../storage/store-failure.js';
import { withinStoreWait } from '../storage/store-wait.js';
import { ResilientLlmTelemetry } from '../telemetry/resilient-llm.telemetry.js';
import type { Clock } from '../time/clock.interface.js';
import { BudgetLedger } from './budget-ledger.js';
import { GLOBAL_SCOPE, scopeIdOf } from './budget-scope.js';
import { worstState } from './budget-state.js';
import type { BudgetReservation, BudgetStatus, BudgetWindowStatus } from './budget-status.interface.js';
import { BudgetWindowCache } from './budget-window-cache.js';
import { describeWindow, tightestOf } from './budget-window-status.js';
import { DeferredStoreWrites } from './deferred-store-writes.js';
import { scopeWindowsAt } from './scope-windows.js';
import { StoreOutageLog } from './store-outage-log.js';

export interface CallSettlement {
  /** What the call cost in all (completions plus charged failed attempts), in micro-dollars. */
  actualMicro: number;
  /** The part of it whose result was not used. */
  wasteMicro: number;
  succeeded: boolean;
}

/**
 * Spend limits per calendar window and scope, kept in the budget store. `reserve` holds a
 * call's worst-case cost before any upstream request (or refuses with 429); settling moves it
 * to spent at the real price. Reservations carry a lease, so a crashed process cannot hold
 * money for ever. No call waits for the store longer than `storage.maxWaitMs` (or its own
 * deadline): then it is refused with 503, or admitted with `budget.onStoreError: 'fail-open'`.
 */
@Injectable()
export class BudgetGuard implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('BudgetGuard');
  private readonly outage = new StoreOutageLog(this.logger);
  private readonly windows = new BudgetWindowCache();
  private readonly deferred = new DeferredStoreWrites({
    deferred: (count, error) => this.outage.failed(`Budget store unavailable; ${count} ledger write(s) will be retried`, error),
    dropped: (write) => this.logger.error(`Too many budget writes wait for the store; dropped the ${write.description} (its lease returns the money)`),
  });
  private readonly ledger?: BudgetLedger;
  private timer?: NodeJS.Timeout;
  private maintaining = false;

  constructor(
    @InjectResilientLlmOptions() private readonly options: ResolvedResilientLlmOptions,
    @Optional() @Inject(RESILIENT_LLM_BUDGET_STORE) private readonly store: BudgetStore | null,
    @InjectClock() private readonly clock: Clock,
    private readonly telemetry: ResilientLlmTelemetry,
  ) {
    this.ledger = store ? new BudgetLedger(store, this.windows) : undefined;
  }

  /** True when limits are configured (and a store holds them). */
  get enabled(): boolean {
    return this.options.budget.enabled && !!this.store;
  }

  onModuleInit(): void {
    if (!this.enabled) return;
    const every = Math.min(30_000, Math.max(1_000, this.options.budget.leaseMs / 4));
    this.timer = setInterval(() => void this.maintain(), every);
    this.timer.unref();
  }

  /** Before the store closes (on application shutdown): writes that waited for it get one more try. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.deferred.flush(this.maxWaitMs);
  }

  /** Holds `amountMicro` in every window of the global scope and of `scopeKey`, or throws 429 / 503. */
  async reserve(request: { scopeKey?: string; amountMicro: number; model: string; deadlineAtMs?: number }): Promise<BudgetReservation> {
    const now = this.clock.now();
    const windows = this.windowsFor(request.scopeKey, now);
    const base = { scopeKey: request.scopeKey, model: request.model, windows };
    if (windows.length === 0 || !this.ledger) return { ...base, rows: [], state: 'healthy', recorded: true };
    const row = this.newRow(windows, request.scopeKey, request.model, request.amountMicro, now);
    try {
      await this.ledger.hold(row, windows, now, this.waitFor(request.deadlineAtMs));
      this.outage.recovered();
    } catch (error) {
      if (error instanceof BudgetExhaustedException) throw error;
      if (!this.admitsDespite(error)) {
        this.releaseIfLanded(row, windows, error);
        throw new BudgetStoreUnavailableException(error);
      }
      // Admitted without a confirmed row: the settlement records the spend on this row, whether its insert landed or not.
      return { ...base, rows: [{ id: row.id, amountMicro: row.amountMicro, recorded: false }], state: 'healthy', recorded: false };
    }
    const statuses = (await this.ledger.snapshot(row.windowIds, this.waitFor(request.deadlineAtMs))).map((w) => this.describe(w));
    this.telemetry.observeBudget(statuses);
    return { ...base, rows: [{ id: row.id, amountMicro: row.amountMicro }], state: worstState(statuses.map((w) => w.state)), tightest: tightestOf(statuses), recorded: true };
  }

  /** Adds `extraMicro` to a reservation (a retry needs more than was held), or throws 429 / 503. */
  async topUp(reservation: BudgetReservation, extraMicro: number, afterAttempts?: number, deadlineAtMs?: number): Promise<void> {
    if (!this.ledger || reservation.windows.length === 0 || extraMicro <= 0) return;
    if (!reservation.recorded) {
      // Admitted without the store: its one unconfirmed row, settled at the end, just covers more.
      const [row] = reservation.rows;
      if (row) row.amountMicro += extraMicro;
      else reservation.rows.push({ id: randomUUID(), amountMicro: extraMicro, recorded: false });
      return;
    }
    const now = this.clock.now();
    const row = this.newRow(reservation.windows, reservation.scopeKey, reservation.model, extraMicro, now);
    try {
      await this.ledger.hold(row, reservation.windows, now, this.waitFor(deadlineAtMs), afterAttempts);
      this.outage.recovered();
      reservation.rows.push({ id: row.id, amountMicro: extraMicro });
    } catch (error) {
      if (error instanceof BudgetExhaustedException) throw error;
      const admitted = this.admitsDespite(error);
      // Settled with the call's other rows: an admitted row carries its share of the spend, a refused one may have landed.
      if (admitted || !storeRefusedStatement(error)) reservation.rows.push({ id: row.id, amountMicro: extraMicro, recorded: false });
      if (!admitted) throw new BudgetStoreUnavailableException(error);
    }
  }

  /** Held money of the reservation, all rows together. */
  heldMicro(reservation: BudgetReservation): number {
    return reservation.rows.reduce((sum, row) => sum + row.amountMicro, 0);
  }

  /**
   * Settles a call: its rows move from reserved to spent at `actualMicro` (which may exceed
   * what was held: real spend is recorded, never dropped). Waits for the store at most
   * `storage.maxWaitMs`; what it could not write is retried later, and until then the lease
   * keeps the money held.
   */
  async settle(reservation: BudgetReservation, outcome: CallSettlement): Promise<void> {
    const ledger = this.ledger;
    if (!ledger || reservation.windows.length === 0) return;
    const settledAt = this.clock.now();
    const rows = reservation.rows.length > 0 ? reservation.rows : [{ id: randomUUID(), amountMicro: 0, recorded: false as const }];
    let remaining = outcome.actualMicro;
    const writes = rows.map((row, index) => {
      const last = index === rows.length - 1;
      const actualMicro = last ? remaining : Math.min(remaining, row.amountMicro);
      remaining -= actualMicro;
      const settlement = { state: outcome.succeeded ? ('committed' as const) : ('released' as const), actualMicro, wasteMicro: last ? outcome.wasteMicro : 0, settledAt };
      if (row.recorded !== false) return ledger.settlement(row.id, settlement);
      const unconfirmed = this.newRow(reservation.windows, reservation.scopeKey, reservation.model, row.amountMicro, settledAt, row.id);
      return ledger.unconfirmedSettlement(unconfirmed, reservation.windows, settlement);
    });
    if (await this.deferred.runWithin(writes, this.maxWaitMs)) this.outage.recovered();
  }

  /** State, spent, reserved and limit of every window of the global scope and of `scopeKey`; 503 when the store does not answer. */
  async status(scopeKey?: string): Promise<BudgetStatus> {
    const now = this.clock.now();
    const windows = this.windowsFor(scopeKey, now);
    const store = this.store;
    const read = store
      ? await withinStoreWait(this.maxWaitMs, async (signal) => {
          await store.expireLeases(now);
          signal.throwIfAborted();
          return store.readWindows(windows.map((w) => w.id));
        }).catch((error: unknown) => {
          throw new BudgetStoreUnavailableException(error);
        })
      : [];
    const stored = new Map(read.map((w) => [w.id, w]));
    const statuses = windows.map((window) => this.describe(stored.get(window.id) ?? { ...window, spentMicro: 0, reservedMicro: 0, wasteMicro: 0 }));
    this.telemetry.observeBudget(statuses);
    return { scope: scopeKey ?? GLOBAL_SCOPE, state: worstState(statuses.map((s) => s.state)), windows: statuses };
  }

  /** The reservation's window closest to its limit, as it stands now (one read, within `storage.maxWaitMs`). */
  async tightestWindow(reservation: BudgetReservation): Promise<BudgetWindowStatus | undefined> {
    const store = this.store;
    if (!store || reservation.windows.length === 0) return undefined;
    const snapshots = await withinStoreWait(this.maxWaitMs, () => store.readWindows(reservation.windows.map((w) => w.id)));
    const statuses = snapshots.map((w) => this.describe(w));
    this.telemetry.observeBudget(statuses);
    return tightestOf(statuses);
  }

  /** Returns the money of reservations whose lease has ended; how many there were. */
  async expireLeases(): Promise<number> {
    const store = this.store;
    return store ? withinStoreWait(this.maxWaitMs, () => store.expireLeases(this.clock.now())) : 0;
  }

  private get maxWaitMs(): number {
    return this.options.storage.maxWaitMs;
  }

  /** How long a call may wait for the store: `storage.maxWaitMs`, or less when its deadline is nearer. */
  private waitFor(deadlineAtMs: number | undefined): number {
    const untilDeadline = deadlineAtMs === undefined ? Number.POSITIVE_INFINITY : deadlineAtMs - this.clock.now();
    return Math.max(1, Math.min(this.maxWaitMs, untilDeadline));
  }

  private async maintain(): Promise<void> {
    if (this.maintaining) return;
    this.maintaining = true;
    try {
      await this.deferred.flush(this.maxWaitMs);
      await this.expireLeases();
      this.windows.prune(this.clock.now());
    } catch (error) {
      this.logger.warn(`Budget maintenance failed: ${(error as Error).message}`);
    } finally {
      this.maintaining = false;
    }
  }

  /** Fail open: the call goes on without the store. A store whose file was replaced is never trusted to catch up. */
  private admitsDespite(error: unknown): boolean {
    if (this.options.budget.failOpen && !isStoreFileReplacedError(error)) {
      this.outage.failed('Budget store unavailable, admitting calls anyway (budget.onStoreError is "fail-open")', error);
      return true;
    }
    this.outage.failed('Budget store unavailable, refusing calls', error);
    return false;
  }

  /** A refused call's reservation whose insert may still land (a timeout): released in the background. */
  private releaseIfLanded(row: NewReservation, windows: readonly BudgetWindowRow[], error: unknown): void {
    if (storeRefusedStatement(error)) return;
    const release = this.ledger!.unconfirmedSettlement(row, windows, { state: 'released', actualMicro: 0, wasteMicro: 0, settledAt: this.clock.now() });
    void this.deferred.runWithin([release], this.maxWaitMs);
  }

  private newRow(windows: readonly BudgetWindowRow[], scopeKey: string | undefined, model: string, amountMicro: number, now: number, id: string = randomUUID()): NewReservation {
    return {
      id,
      windowIds: windows.map((window) => window.id),
      scope: scopeIdOf(scopeKey),
      model,
      amountMicro,
      createdAt: now,
      leaseExpiresAt: now + this.options.budget.leaseMs,
    };
  }

  private windowsFor(scopeKey: string | undefined, now: number): BudgetWindowRow[] {
    const scope = scopeKey === undefined ? '' : scopeIdOf(scopeKey);
    return this.windows.windowsFor(scope, now, () => scopeWindowsAt(this.options.budget, scopeKey, now));
  }

  private describe(window: BudgetWindowSnapshot): BudgetWindowStatus {
    return describeWindow(window, this.options.budget);
  }
}
