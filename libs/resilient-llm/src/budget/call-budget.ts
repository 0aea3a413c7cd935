import { BudgetExhaustedException } from '../errors/budget-exhausted.exception.js';
import type { BudgetGuard, CallSettlement } from './budget.guard.js';
import type { BudgetReservation } from './budget-status.interface.js';

export interface CallBudgetEvents {
  reserved(reservation: BudgetReservation, amountMicro: number): void;
  rejected(rejection: BudgetExhaustedException): void;
}

/**
 * The money of one guarded call: what it holds in the ledger, what its requests in flight may
 * still cost, what its failed attempts were charged. "Ensure headroom" tops the reservation up
 * to cover every request's worst case before it is sent; settling moves it all to spent.
 */
export class CallBudget {
  reservation?: BudgetReservation;
  /** Charged for failed attempts that may have been billed (timeouts), in micro-dollars. */
  chargedMicro = 0;
  /** Worst cases of the call's requests now in flight, not yet in its spend. */
  inFlightMicro = 0;
  private admission?: Promise<BudgetReservation | undefined>;
  private rejectionReported = false;
  // Top-ups run one at a time: parallel requests each computing "missing" from the same held
  // amount would each reserve the whole shortfall, and refuse calls the budget could hold.
  private topUps: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly guard: BudgetGuard,
    private readonly scopeKey: string | undefined,
    private readonly model: string,
    /** The call's own estimate, reserved before the handler's body runs; 0 for a lone request. */
    readonly estimateMicro: number,
    private readonly events: CallBudgetEvents,
    /** When the call gives up (epoch ms, the module's clock): no wait for the store outlasts it. */
    private readonly deadlineAtMs: () => number | undefined = () => undefined,
  ) {}

  get enabled(): boolean {
    return this.guard.enabled;
  }

  /** Reserves the call's estimate (at least `minimumMicro`), once; refuses with 429 before anything runs. */
  admit(minimumMicro = 0): Promise<BudgetReservation | undefined> {
    if (!this.guard.enabled) return Promise.resolve(undefined);
    this.admission ??= this.reserve(Math.max(this.estimateMicro, minimumMicro));
    return this.admission;
  }

  /**
   * Makes sure the reservation covers what the call spent, its requests in flight, and one more
   * request of `worstMicro`, which counts as in flight until the returned function runs.
   * `spentMicro` is read when the top-up runs, after those queued before it.
   */
  async ensureHeadroom(spentMicro: () => number, worstMicro: number, afterAttempts: number): Promise<() => void> {
    this.inFlightMicro += worstMicro;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.inFlightMicro -= worstMicro;
    };
    // A request that costs nothing (a GET) needs no reservation of its own.
    if (!this.guard.enabled || (worstMicro === 0 && !this.admission)) return release;
    try {
      const reservation = await this.admit(spentMicro() + this.inFlightMicro);
      if (!reservation) return release;
      const topUp = this.topUps.then(() => {
        const missing = spentMicro() + this.inFlightMicro - this.guard.heldMicro(reservation);
        return missing > 0 ? this.guard.topUp(reservation, missing, afterAttempts, this.deadlineAtMs()) : undefined;
      });
      this.topUps = topUp.catch(() => undefined);
      await topUp;
      return release;
    } catch (error) {
      release();
      this.reportRejection(error);
      throw error;
    }
  }

  /** Moves the reservation to spent at what the call cost; nothing when nothing was reserved. */
  async settle(settlement: CallSettlement): Promise<void> {
    if (this.reservation) await this.guard.settle(this.reservation, settlement);
  }

  private async reserve(amountMicro: number): Promise<BudgetReservation> {
    try {
      this.reservation = await this.guard.reserve({ scopeKey: this.scopeKey, amountMicro, model: this.model, deadlineAtMs: this.deadlineAtMs() });
    } catch (error) {
      this.reportRejection(error);
      throw error;
    }
    this.events.reserved(this.reservation, amountMicro);
    return this.reservation;
  }

  /** Once per call: a refused admission is seen again by every request that waited on it. */
  private reportRejection(error: unknown): void {
    if (!(error instanceof BudgetExhaustedException) || this.rejectionReported) return;
    this.rejectionReported = true;
    this.events.rejected(error);
  }
}
