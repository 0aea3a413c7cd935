import type { BudgetWindowRow } from '../budget-store.interface.js';
import type { BudgetState } from '../budget-state.js';
import type { BudgetWindowStatus, ReservationRow } from '../budget-status.interface.js';

/** One call's share of a slice: a row of the call's reservation that the slice's ledger row holds. */
export interface SliceDraw {
  readonly slice: EscrowSlice;
  readonly row: ReservationRow;
  /** What of it the call has spent or sent (the most it said so far). */
  exposureMicro: number;
}

/**
 * A replica's slice of the budget: ONE ledger row, held by this replica, reserved through the
 * store's atomic check in every window of a scope's set. Calls draw from it in memory; they
 * settle into it; the row is settled (at what they spent, the rest returned) once the slice is
 * retired and no call is open on it. Its money in flight in the store is raised ahead of what
 * its calls spent or sent, so that an expiry (the replica died) charges at least that.
 */
export class EscrowSlice {
  /** Promised to calls: what open draws hold plus what settled ones cost. */
  drawnMicro = 0;
  spentMicro = 0;
  wasteMicro = 0;
  /** What the store holds as this row's money in flight. */
  markMicro = 0;
  retiring = false;
  /** Its lease ended in the store (a stall, a clock step): it holds nothing more; its calls cover again. */
  expired = false;
  private readonly open = new Set<SliceDraw>();
  private openExposureMicro = 0;
  private draws = 0;

  constructor(
    readonly id: string,
    readonly key: string,
    readonly windows: readonly BudgetWindowRow[],
    readonly amountMicro: number,
    readonly createdAt: number,
    readonly state: BudgetState,
    readonly tightest?: BudgetWindowStatus,
  ) {}

  get roomMicro(): number {
    return this.amountMicro - this.drawnMicro;
  }

  get openDraws(): number {
    return this.open.size;
  }

  /** What the store must know to be in flight: what settled calls spent and what open ones spent or sent. */
  get exposureMicro(): number {
    return this.spentMicro + this.openExposureMicro;
  }

  /** The store knows at least the exposure of its calls to be in flight (or the row is gone): a call may send. */
  get marked(): boolean {
    return this.expired || this.exposureMicro <= this.markMicro;
  }

  /** It can give a draw of `amountMicro` now, and its mark already covers the draw's `exposureMicro`: no statement needed. */
  servesNow(amountMicro: number, exposureMicro: number): boolean {
    return this.hasRoomFor(amountMicro) && this.exposureMicro + Math.min(exposureMicro, amountMicro) <= this.markMicro;
  }

  /** A draw of `amountMicro`, or undefined when the slice cannot give it. */
  draw(amountMicro: number, exposureMicro: number): SliceDraw | undefined {
    if (!this.hasRoomFor(amountMicro)) return undefined;
    this.drawnMicro += amountMicro;
    const draw: SliceDraw = { slice: this, row: { id: `${this.id}:${++this.draws}`, amountMicro, inFlightMicro: 0 }, exposureMicro: 0 };
    this.open.add(draw);
    this.expose(draw, exposureMicro);
    return draw;
  }

  /** Raises what a draw has spent or sent (never lowers it). */
  expose(draw: SliceDraw, exposureMicro: number): void {
    const raised = Math.min(exposureMicro, draw.row.amountMicro);
    if (raised <= draw.exposureMicro) return;
    this.openExposureMicro += raised - draw.exposureMicro;
    draw.exposureMicro = raised;
  }

  /** A call settled its draw at `actualMicro` (`wasteMicro` of it unused): the rest of the draw is room again. */
  settle(draw: SliceDraw, actualMicro: number, wasteMicro: number): void {
    if (!this.open.delete(draw)) return;
    this.openExposureMicro -= draw.exposureMicro;
    this.drawnMicro += actualMicro - draw.row.amountMicro;
    this.spentMicro += actualMicro;
    this.wasteMicro += wasteMicro;
  }

  /** The store no longer holds the row: its calls' rows are marked expired at what the expiry charged for them. */
  expire(): void {
    this.expired = true;
    for (const draw of this.open) {
      draw.row.expired = true;
      draw.row.inFlightMicro = draw.exposureMicro;
    }
  }

  /** Retired and no call open: the row can be settled. */
  get settleable(): boolean {
    return this.retiring && this.open.size === 0;
  }

  /** It can still give calls `amountMicro`. */
  hasRoomFor(amountMicro: number): boolean {
    return !this.retiring && !this.expired && this.roomMicro >= amountMicro;
  }

  /** The mark to raise the store's to, ahead of `exposure` by a quarter of the slice, so that marks are rare. */
  markTarget(): number {
    const needed = this.exposureMicro;
    return Math.max(needed, Math.min(this.amountMicro, needed + Math.ceil(this.amountMicro / 4)));
  }
}
