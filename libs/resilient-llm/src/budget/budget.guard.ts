import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnModuleInit, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { BudgetExhaustedException } from '../errors/budget-exhausted.exception.js';
import { BudgetStoreUnavailableException } from '../errors/budget-store-unavailable.exception.js';
import type { ResolvedResilientLlmOptions } from '../module/resilient-llm-options.interface.js';
import { InjectClock, InjectResilientLlmOptions } from '../resilient-llm.constants.js';
import {
  type BudgetStore,
  type BudgetWindowRow,
  type BudgetWindowSnapshot,
  type NewReservation,
  RESILIENT_LLM_BUDGET_STORE,
} from '../storage/budget-store.interface.js';
import { ResilientLlmTelemetry } from '../telemetry/resilient-llm.telemetry.js';
import type { Clock } from '../time/clock.interface.js';
import { microUsdToUsd } from '../pricing/price-table.js';
import { GLOBAL_SCOPE, scopeIdOf, scopeKeyOf } from './budget-scope.js';
import type { ResolvedBudgetLimits } from './budget-options.interface.js';
import { budgetStateOf, worstState } from './budget-state.js';
import type { BudgetReservation, BudgetStatus, BudgetWindowStatus } from './budget-status.interface.js';
import { BUDGET_WINDOW_KINDS, windowAt } from './budget-window.js';

const MAX_CACHED_SCOPES = 10_000;
// Settlements waiting for the store; past this many the oldest are dropped (and logged), not kept for ever.
const MAX_PENDING = 10_000;

interface PendingSettlement {
  run: () => Promise<void>;
  description: string;
}

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
 * money for ever.
 */
@Injectable()
export class BudgetGuard implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('BudgetGuard');
  private readonly ensuredWindows = new Set<string>();
  /** Windows per scope key, valid until the earliest of them ends: computing them takes ~10 Intl calls. */
  private readonly windowCache = new Map<string, BudgetWindowRow[]>();
  private readonly pending: PendingSettlement[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectResilientLlmOptions() private readonly options: ResolvedResilientLlmOptions,
    @Optional() @Inject(RESILIENT_LLM_BUDGET_STORE) private readonly store: BudgetStore | null,
    @InjectClock() private readonly clock: Clock,
    private readonly telemetry: ResilientLlmTelemetry,
  ) {}

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

  /** Before the store closes (on application shutdown): settlements that waited for it get one more try. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flushPending();
  }

  /** Holds `amountMicro` in every window of the global scope and of `scopeKey`, or throws 429 / 503. */
  async reserve(request: { scopeKey?: string; amountMicro: number; model: string }): Promise<BudgetReservation> {
    const now = this.clock.now();
    const windows = this.windowsFor(request.scopeKey, now);
    const base = { scopeKey: request.scopeKey, model: request.model, windows };
    if (windows.length === 0 || !this.store) return { ...base, rows: [], state: 'healthy', recorded: true };
    try {
      await this.ensureWindows(windows);
      const row = this.newRow(windows, request.scopeKey, request.model, request.amountMicro, now);
      const statuses = (await this.insert(row, now)).map((w) => this.describe(w));
      this.telemetry.observeBudget(statuses);
      return {
        ...base,
        rows: [{ id: row.id, amountMicro: row.amountMicro }],
        state: worstState(statuses.map((w) => w.state)),
        tightest: tightestOf(statuses),
        recorded: true,
      };
    } catch (error) {
      if (error instanceof BudgetExhaustedException) throw error;
      return this.storeFailed(error, { ...base, rows: [], state: 'healthy', recorded: false });
    }
  }

  /** Adds `extraMicro` to a reservation (a retry needs more than was held), or throws 429 / 503. */
  async topUp(reservation: BudgetReservation, extraMicro: number, afterAttempts?: number): Promise<void> {
    if (!this.store || reservation.windows.length === 0 || extraMicro <= 0) return;
    if (!reservation.recorded) {
      reservation.rows.push({ id: randomUUID(), amountMicro: extraMicro, recorded: false });
      return;
    }
    const now = this.clock.now();
    const row = this.newRow(reservation.windows, reservation.scopeKey, reservation.model, extraMicro, now);
    try {
      await this.insert(row, now, afterAttempts);
      reservation.rows.push({ id: row.id, amountMicro: extraMicro });
    } catch (error) {
      if (error instanceof BudgetExhaustedException) throw error;
      this.storeFailed(error, reservation);
      // Admitted without a ledger row: its share of the spend is recorded once the store is back.
      reservation.rows.push({ id: row.id, amountMicro: extraMicro, recorded: false });
    }
  }

  /** Held money of the reservation, all rows together. */
  heldMicro(reservation: BudgetReservation): number {
    return reservation.rows.reduce((sum, row) => sum + row.amountMicro, 0);
  }

  /**
   * Settles a call: its rows move from reserved to spent at `actualMicro` (which may exceed
   * what was held: real spend is recorded, never dropped). A store that is down gets the
   * settlement later; until then the lease keeps the money held.
   */
  async settle(reservation: BudgetReservation, outcome: CallSettlement): Promise<void> {
    if (!this.store || reservation.windows.length === 0) return;
    const settledAt = this.clock.now();
    const rows = reservation.recorded ? reservation.rows : [{ id: randomUUID(), amountMicro: 0, recorded: false as const }];
    let remaining = outcome.actualMicro;
    for (const [index, row] of rows.entries()) {
      const last = index === rows.length - 1;
      const actualMicro = last ? remaining : Math.min(remaining, row.amountMicro);
      const wasteMicro = last ? outcome.wasteMicro : 0;
      remaining -= actualMicro;
      if (row.recorded === false) {
        // Admitted while the store was down: record what it spent, in windows that may not exist yet.
        const spend = this.newRow(reservation.windows, reservation.scopeKey, reservation.model, 0, settledAt, row.id);
        const record = async () => {
          await this.ensureWindows([...reservation.windows]);
          await this.store!.recordUnreservedSpend(spend, actualMicro, wasteMicro);
        };
        await this.orLater(record, `spend of ${row.id}`);
        continue;
      }
      const settlement = { state: outcome.succeeded ? ('committed' as const) : ('released' as const), actualMicro, wasteMicro, settledAt };
      await this.orLater(async () => void (await this.store!.settle(row.id, settlement)), `settlement of ${row.id}`);
    }
  }

  /** State, spent, reserved and limit of every window of the global scope and of `scopeKey`. */
  async status(scopeKey?: string): Promise<BudgetStatus> {
    const now = this.clock.now();
    const windows = this.windowsFor(scopeKey, now);
    if (this.store) await this.store.expireLeases(now);
    const stored = new Map((this.store ? await this.store.readWindows(windows.map((w) => w.id)) : []).map((w) => [w.id, w]));
    const statuses = windows.map((window) => this.describe(stored.get(window.id) ?? { ...window, spentMicro: 0, reservedMicro: 0, wasteMicro: 0 }));
    this.telemetry.observeBudget(statuses);
    return { scope: scopeKey ?? GLOBAL_SCOPE, state: worstState(statuses.map((s) => s.state)), windows: statuses };
  }

  /** The reservation's window closest to its limit, as it stands now (one read). */
  async tightestWindow(reservation: BudgetReservation): Promise<BudgetWindowStatus | undefined> {
    if (!this.store || reservation.windows.length === 0) return undefined;
    const statuses = (await this.store.readWindows(reservation.windows.map((w) => w.id))).map((w) => this.describe(w));
    this.telemetry.observeBudget(statuses);
    return tightestOf(statuses);
  }

  /** Returns the money of reservations whose lease has ended; how many there were. */
  async expireLeases(): Promise<number> {
    return this.store ? this.store.expireLeases(this.clock.now()) : 0;
  }

  private async maintain(): Promise<void> {
    try {
      await this.flushPending();
      await this.expireLeases();
    } catch (error) {
      this.logger.warn(`Budget maintenance failed: ${(error as Error).message}`);
    }
  }

  private async flushPending(): Promise<void> {
    for (const settlement of this.pending.splice(0)) await this.orLater(settlement.run, settlement.description);
  }

  private async orLater(run: () => Promise<void>, description: string): Promise<void> {
    try {
      await run();
    } catch (error) {
      this.logger.warn(`Budget store unavailable; will retry the ${description}: ${(error as Error).message}`);
      this.pending.push({ run, description });
      if (this.pending.length > MAX_PENDING) {
        const dropped = this.pending.shift()!;
        this.logger.error(`More than ${MAX_PENDING} budget settlements wait for the store; dropped the ${dropped.description}`);
      }
    }
  }

  private storeFailed(error: unknown, admitted: BudgetReservation): BudgetReservation {
    if (!this.options.budget.failOpen) {
      this.logger.error(`Budget store unavailable, refusing the call (budget.onStoreError is "fail-closed"): ${(error as Error).message}`);
      throw new BudgetStoreUnavailableException(error);
    }
    this.logger.warn(`Budget store unavailable, admitting the call anyway (budget.onStoreError is "fail-open"): ${(error as Error).message}`);
    return admitted;
  }

  /** Inserts a held row; refuses with 429 naming the window that could not hold it. */
  private async insert(row: NewReservation, now: number, afterAttempts?: number): Promise<BudgetWindowSnapshot[]> {
    const store = this.store!;
    // Expired leases hold money nobody will settle: give it back before refusing a call for want of it.
    const admitted = (await store.reserve(row)) || ((await store.expireLeases(now)) > 0 && (await store.reserve(row)));
    if (admitted) {
      // The money is held: a failed read now only costs the snapshot, never the reservation.
      return store.readWindows(row.windowIds).catch(() => []);
    }
    const snapshots = await store.readWindows(row.windowIds);
    const blocking =
      snapshots.find((w) => w.spentMicro + w.reservedMicro + row.amountMicro > w.limitMicro) ?? snapshots[0];
    throw new BudgetExhaustedException({ ...blocking, kind: blocking.kind, scope: blocking.scope }, row.amountMicro, now, afterAttempts);
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

  private limitsOf(scopeKey: string | undefined): Array<{ scope: string; limits: ResolvedBudgetLimits }> {
    const { global, scopeOverrides, scopeDefault } = this.options.budget;
    const scopes = [{ scope: GLOBAL_SCOPE, limits: global }];
    if (scopeKey !== undefined) scopes.push({ scope: scopeIdOf(scopeKey), limits: scopeOverrides.get(scopeKey) ?? scopeDefault });
    return scopes;
  }

  private windowsFor(scopeKey: string | undefined, now: number): BudgetWindowRow[] {
    const cacheKey = scopeKey === undefined ? '' : scopeIdOf(scopeKey);
    const cached = this.windowCache.get(cacheKey);
    if (cached?.every((window) => now >= window.startsAt && now < window.endsAt)) return cached;
    const rows = this.computeWindows(scopeKey, now);
    // Scope keys come from requests: the cache stays bounded.
    if (this.windowCache.size >= MAX_CACHED_SCOPES) this.windowCache.clear();
    this.windowCache.set(cacheKey, rows);
    return rows;
  }

  private computeWindows(scopeKey: string | undefined, now: number): BudgetWindowRow[] {
    const rows: BudgetWindowRow[] = [];
    for (const { scope, limits } of this.limitsOf(scopeKey)) {
      for (const kind of BUDGET_WINDOW_KINDS) {
        const limitMicro = limits[kind];
        if (limitMicro === undefined) continue;
        const window = windowAt(kind, now, this.options.budget.timeZone);
        rows.push({ id: `${scope}|${kind}|${window.period}`, scope, limitMicro, ...window });
      }
    }
    return rows;
  }

  private async ensureWindows(windows: BudgetWindowRow[]): Promise<void> {
    const missing = windows.filter((w) => !this.ensuredWindows.has(`${w.id}@${w.limitMicro}`));
    if (missing.length === 0) return;
    await this.store!.upsertWindows(missing);
    for (const window of missing) this.ensuredWindows.add(`${window.id}@${window.limitMicro}`);
  }

  private describe(window: BudgetWindowSnapshot): BudgetWindowStatus {
    const used = window.spentMicro + window.reservedMicro;
    const { warningRatio, criticalRatio } = this.options.budget;
    return {
      scope: scopeKeyOf(window.scope),
      window: window.kind,
      period: window.period,
      startsAt: new Date(window.startsAt).toISOString(),
      endsAt: new Date(window.endsAt).toISOString(),
      limitMicroUsd: window.limitMicro,
      spentMicroUsd: window.spentMicro,
      reservedMicroUsd: window.reservedMicro,
      wasteMicroUsd: window.wasteMicro,
      limitUsd: microUsdToUsd(window.limitMicro),
      spentUsd: microUsdToUsd(window.spentMicro),
      reservedUsd: microUsdToUsd(window.reservedMicro),
      ratio: window.limitMicro === 0 ? 1 : used / window.limitMicro,
      state: budgetStateOf(used, window.limitMicro, warningRatio, criticalRatio),
    };
  }
}

const tightestOf = (statuses: BudgetWindowStatus[]): BudgetWindowStatus | undefined =>
  statuses.reduce<BudgetWindowStatus | undefined>((tightest, status) => (!tightest || status.ratio > tightest.ratio ? status : tightest), undefined);
