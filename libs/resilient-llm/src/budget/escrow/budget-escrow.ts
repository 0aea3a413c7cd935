import { randomUUID } from 'node:crypto';
import type { Clock } from '../../time/clock.interface.js';
import { withinStoreWait } from '../../errors/store-wait.js';
import { BudgetExhaustedException } from '../budget-exhausted.exception.js';
import type { BudgetLedger } from '../budget-ledger.js';
import { BudgetStoreUnavailableException } from '../budget-store-unavailable.exception.js';
import type { BudgetWindowRow, BudgetWindowSnapshot } from '../budget-store.interface.js';
import type { BudgetReservation } from '../budget-status.interface.js';
import type { ResolvedEscrowOptions } from '../budget-options.interface.js';
import type { CallSettlement } from '../settlement-writes.js';
import type { StoreFailures } from '../store-failures.js';
import type { EscrowSlice, SliceDraw } from './escrow-slice.js';
import { type DescribeSlice, SliceSupply } from './slice-supply.js';
import { SliceMarks } from './slice-marks.js';
import type { BudgetSettings } from '../budget-options.interface.js';
import type { BudgetReadings } from '../budget-readings.js';
import { type BudgetState, budgetStateOf, worstState } from '../budget-state.js';
import { tightestOf } from '../budget-window-status.js';
import { reservationOf } from '../reservation-row.js';

const DRAWS = Symbol('escrow draws');

/** A reservation served by slices: its rows are draws on them, kept on it (a lookup table would cost every call). */
type EscrowReservation = BudgetReservation & { [DRAWS]?: SliceDraw[] };

const drawsOf = (reservation: BudgetReservation): SliceDraw[] | undefined => (reservation as Partial<EscrowReservation>)[DRAWS];

const MARKED = Promise.resolve(true);

export interface EscrowDeps {
  ledger: BudgetLedger;
  clock: Clock;
  failures: StoreFailures;
  leaseMs: number;
  maxWaitMs: number;
  options: ResolvedEscrowOptions;
  /** The budget's warning and critical ratios. */
  thresholds: { warningRatio: number; criticalRatio: number };
  describe: DescribeSlice;
}

/**
 * Budget escrow (`budget.escrow`): the guard's reservations, top-ups, marks and settlements
 * served from this replica's slices in memory (see `SliceSupply`), each slice one ledger row
 * reserved through the store's atomic check, so that slices and direct reservations together
 * never pass a window's limit. Slices are settled when replaced, every `settleEveryMs`, on
 * shutdown, and by their lease if the replica dies.
 */
export class BudgetEscrow {
  private readonly supply: SliceSupply;
  private readonly marks: SliceMarks;
  private timer?: NodeJS.Timeout;

  /** The escrow when `budget.escrow` is on (and a store keeps the budget). */
  static when(settings: BudgetSettings, ledger: BudgetLedger | undefined, readings: BudgetReadings | undefined, clock: Clock, failures: StoreFailures): BudgetEscrow | undefined {
    const options = settings.budget.escrow;
    if (!options || !ledger || !readings) return undefined;
    const describe: DescribeSlice = (windows, snapshots) => {
      const statuses = readings.describe(windows, snapshots, 'configured');
      return { state: worstState(statuses.map((status) => status.state)), tightest: tightestOf(statuses) };
    };
    return new BudgetEscrow({ ledger, clock, failures, leaseMs: settings.budget.leaseMs, maxWaitMs: settings.storage.maxWaitMs, options, thresholds: settings.budget, describe });
  }

  constructor(private readonly deps: EscrowDeps) {
    this.marks = new SliceMarks(deps.ledger, deps.clock, deps.leaseMs);
    this.supply = new SliceSupply({ ...deps, maxSliceMicro: deps.options.maxSliceMicro, settleRow: (slice) => this.settleRow(slice) });
  }

  start(): void {
    // Renewed well within a lease, and settled often enough that the budget view stays near-current.
    const every = Math.min(this.deps.options.settleEveryMs, Math.max(250, this.deps.leaseMs / 4));
    this.timer = setInterval(() => void this.maintain(), every);
    this.timer.unref();
  }

  /** Renews the slices' leases, and retires those older than `settleEveryMs` or idle (their rows settle once their calls have). */
  async maintain(): Promise<void> {
    this.supply.retireCurrent(this.deps.clock.now() - this.deps.options.settleEveryMs);
    await this.renew();
  }

  /** Retires every slice and waits (at most `storage.maxWaitMs`) until their rows are settled; on shutdown (`stop`) or on demand. */
  async returnAll(stop = true): Promise<void> {
    if (stop) clearInterval(this.timer);
    this.supply.retireCurrent();
    await Promise.race([this.supply.returned(), new Promise((resolve) => setTimeout(resolve, this.deps.maxWaitMs).unref())]);
  }

  owns(reservation: BudgetReservation): boolean {
    return drawsOf(reservation) !== undefined;
  }

  /** Served in memory while the current slice has room and its mark covers the request (no statement, no wait); else a refill or a mark first. */
  async reserve(request: { scopeKey?: string; amountMicro: number; model: string; inFlightMicro?: number }, windows: readonly BudgetWindowRow[], waitMs: number): Promise<BudgetReservation> {
    const exposureMicro = Math.min(request.inFlightMicro ?? 0, request.amountMicro);
    let draw: SliceDraw;
    try {
      draw = this.supply.drawNow(windows, request.amountMicro, exposureMicro) ?? (await this.draw(windows, request.scopeKey, request.amountMicro, exposureMicro, waitMs));
    } catch (error) {
      if (error instanceof BudgetExhaustedException || !this.deps.failures.admitsDespite(error)) throw this.refusal(error);
      // Admitted without the store (fail-open): the guard's own path settles this row, as without escrow.
      return reservationOf(request, windows, [{ id: randomUUID(), amountMicro: request.amountMicro, recorded: false }], 'healthy', false);
    }
    const { state, tightest } = draw.slice;
    const reservation: EscrowReservation = { scopeKey: request.scopeKey, model: request.model, windows, rows: [draw.row], state, tightest, recorded: true, [DRAWS]: [draw] };
    return reservation;
  }

  /** Adds `extraMicro` to an escrow reservation, all of it in flight, or throws 429 / 503. */
  async topUp(reservation: BudgetReservation, extraMicro: number, waitMs: number, afterAttempts?: number): Promise<void> {
    const draw =
      this.supply.drawNow(reservation.windows, extraMicro, extraMicro) ??
      (await this.draw(reservation.windows, reservation.scopeKey, extraMicro, extraMicro, waitMs, afterAttempts).catch((error: unknown) => {
        throw this.refusal(error);
      }));
    reservation.rows.push(draw.row);
    drawsOf(reservation)!.push(draw);
  }

  /** The call has `exposureMicro` spent or in flight: its slices' marks cover it before it sends. False when a slice's lease ended under it. */
  mark(reservation: BudgetReservation, exposureMicro: number, waitMs: number): Promise<boolean> {
    const draws = drawsOf(reservation) ?? [];
    let left = exposureMicro;
    let marked = true;
    for (const draw of draws) {
      const share = draw.row.expired ? (draw.row.inFlightMicro ?? 0) : Math.min(left, draw.row.amountMicro);
      left -= share;
      if (draw.row.expired) continue;
      draw.slice.expose(draw, share);
      marked &&= draw.slice.marked;
    }
    // Most requests stay under the marks, raised ahead of them: nothing to tell the store (and no promise to make).
    return marked ? MARKED : this.raiseMarks(draws.filter((draw) => !draw.row.expired), waitMs);
  }

  /** Settles the call into its slices (each draw its share, up to its amount; the last the rest and the waste), once. */
  settle(reservation: BudgetReservation, outcome: CallSettlement): void {
    const draws = drawsOf(reservation) ?? [];
    // Settled: no longer the escrow's. A request of the call sent later (fired and forgotten, past
    // a backoff sleep) takes the guard's own path, whose lease renewal finds these rows gone.
    delete (reservation as EscrowReservation)[DRAWS];
    let remaining = outcome.actualMicro;
    for (let index = 0; index < draws.length; index++) {
      const draw = draws[index];
      const last = index === draws.length - 1;
      const share = last ? remaining : Math.min(remaining, draw.row.amountMicro);
      remaining -= share;
      draw.slice.settle(draw, share, last ? outcome.wasteMicro : 0);
      this.supply.release(draw.slice);
    }
  }

  /**
   * A call's admission answered without reading the store: this replica's slice of its windows
   * has at least the call's estimate unused, so the windows can take it (that money is reserved
   * and unspent: spent + estimate <= limit) and something is free.
   */
  admitsFromSlice(windows: readonly BudgetWindowRow[], estimateMicro: number): BudgetState | undefined {
    const slice = this.supply.currentOf(windows);
    const tightest = slice?.tightest;
    if (!slice || !tightest || slice.roomMicro <= 0 || slice.roomMicro < estimateMicro) return undefined;
    // The tightest window as the slice was taken, its unused money not held against this call, the estimate held.
    const usedMicro = tightest.spentMicroUsd + tightest.reservedMicroUsd - slice.roomMicro + estimateMicro;
    return budgetStateOf(usedMicro, tightest.limitMicroUsd, this.deps.thresholds.warningRatio, this.deps.thresholds.criticalRatio);
  }

  /**
   * When no slice has the estimate unused (none taken yet, or the last one retired or drained):
   * the admission answered from a slice taken for it, one statement shared by the calls that
   * wait for it, instead of a read each. Undefined when the store was last seen with less left,
   * or refuses the slice: the read decides (money held by calls in flight may come back).
   */
  async admitsAfterRefill(windows: readonly BudgetWindowRow[], scopeKey: string | undefined, estimateMicro: number, waitMs: number): Promise<BudgetState | undefined> {
    try {
      if (!(await withinStoreWait(waitMs, () => this.supply.ensureRoom(windows, scopeKey, estimateMicro, waitMs)))) return undefined;
    } catch (error) {
      if (error instanceof BudgetExhaustedException) return undefined;
      // The store did not answer, as a read would not have: admitted with fail-open, 503 otherwise.
      this.deps.failures.admitOrRefuse(error);
      return 'healthy';
    }
    this.deps.failures.recovered();
    return this.admitsFromSlice(windows, estimateMicro);
  }

  /** The windows as this replica sees them: its slices' unused money is not held against its own calls. */
  readonly withoutIdle = (snapshots: BudgetWindowSnapshot[]): BudgetWindowSnapshot[] => {
    const idle = this.supply.idleByWindow();
    return snapshots.map((snapshot) => ({ ...snapshot, reservedMicro: Math.max(0, snapshot.reservedMicro - (idle.get(snapshot.id) ?? 0)) }));
  };

  private async draw(windows: readonly BudgetWindowRow[], scopeKey: string | undefined, amountMicro: number, exposureMicro: number, waitMs: number, afterAttempts?: number): Promise<SliceDraw> {
    const draw = await this.supply.draw(windows, scopeKey, amountMicro, exposureMicro, waitMs, afterAttempts);
    this.deps.failures.recovered();
    try {
      if (exposureMicro > 0) await this.marks.cover([draw.slice], waitMs);
    } catch (error) {
      // Not sent: the draw goes back to its slice.
      draw.slice.settle(draw, 0, 0);
      this.supply.release(draw.slice);
      throw error;
    }
    return draw;
  }

  private async raiseMarks(live: SliceDraw[], waitMs: number): Promise<boolean> {
    try {
      await this.marks.cover(new Set(live.map((draw) => draw.slice)), waitMs);
    } catch (error) {
      if (!this.deps.failures.admitsDespite(error)) throw new BudgetStoreUnavailableException(error);
    }
    return live.every((draw) => !draw.row.expired);
  }

  private refusal(error: unknown): Error {
    return error instanceof BudgetExhaustedException || error instanceof BudgetStoreUnavailableException ? error : new BudgetStoreUnavailableException(error);
  }

  /** Renews the leases of the slices that hold money (one statement). */
  async renew(): Promise<void> {
    try {
      await this.marks.renew(this.supply.live(), this.deps.maxWaitMs);
    } catch (error) {
      this.deps.failures.failed('Budget store unavailable; the leases of escrow slices were not renewed', error);
    }
  }

  private async settleRow(slice: EscrowSlice): Promise<void> {
    const settlement = { state: 'committed' as const, actualMicro: slice.spentMicro, wasteMicro: slice.wasteMicro, settledAt: this.deps.clock.now() };
    await this.deps.failures.write([this.deps.ledger.settlement(slice.id, settlement)], this.deps.maxWaitMs);
  }
}
