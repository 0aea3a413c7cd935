import { BudgetExhaustedException } from './budget-exhausted.exception.js';
import { BudgetStoreUnavailableException } from './budget-store-unavailable.exception.js';
import type { BudgetGuard } from './budget.guard.js';
import type { CallSettlement } from './settlement-writes.js';
import type { BudgetState } from './budget-state.js';
import type { BudgetReservation } from './budget-status.interface.js';

// Rows found expired are replaced by fresh ones; leases ending again at once mean a clock gone wild.
const MAX_COVER_ROUNDS = 3;

export interface CallBudgetEvents {
  /** Before the body runs: the state of the call's windows, its estimate counted as held. */
  admitted(state: BudgetState): void;
  /** Whether a reservation must come with its windows' figures (telemetry records them), or may carry the state seen on admission. */
  wantsWindowFigures(): boolean;
  reserved(reservation: BudgetReservation, amountMicro: number): void;
  rejected(rejection: BudgetExhaustedException): void;
}

/**
 * The money of one guarded call: what it holds in the ledger, what its requests in flight may
 * still cost, what its failed attempts were charged. Before the body runs the call is only
 * checked (`admitCall`); "ensure headroom" reserves, then tops up, every request's exact worst
 * case before it is sent; settling moves it all to spent. A call that holds its estimate
 * (`retry: 'handler'`, whose requests the transport may not see) reserves it before the body.
 */
export class CallBudget {
  reservation?: BudgetReservation;
  /** Charged for failed attempts that may have been billed (timeouts), in micro-dollars. */
  chargedMicro = 0;
  /** Worst cases of the call's requests now in flight, not yet in its spend. */
  inFlightMicro = 0;
  private admission?: Promise<BudgetReservation | undefined>;
  private admittedState?: BudgetState;
  private rejectionReported = false;
  // Top-ups run one at a time: parallel requests each computing "missing" from the same held
  // amount would each reserve the whole shortfall, and refuse calls the budget could hold.
  // The last one asked for, until it is done: a request with none before it covers at once.
  private lastCover?: Promise<void>;

  constructor(
    private readonly guard: BudgetGuard,
    private readonly scopeKey: string | undefined,
    private readonly model: string,
    /** The call's own estimate: checked before the handler's body runs, the worst case of a request no adapter prices; 0 for a lone request. */
    readonly estimateMicro: number,
    /** Reserve the estimate before the body runs, rather than each request's exact worst case when it is sent. */
    private readonly holdsEstimate: boolean,
    private readonly events: CallBudgetEvents,
    /** When the call gives up (epoch ms, the module's clock): no wait for the store outlasts it. */
    private readonly deadlineAtMs: () => number | undefined = () => undefined,
  ) {}

  get enabled(): boolean {
    return this.guard.enabled;
  }

  /**
   * Before the handler's body runs: refuses the call with 429 when its windows cannot take it
   * (a read, nothing held), or reserves its estimate when it holds one.
   */
  async admitCall(): Promise<void> {
    if (!this.guard.enabled) return;
    if (this.holdsEstimate) {
      await this.admit();
      return;
    }
    let state: BudgetState;
    try {
      state = await this.guard.checkAdmission({ scopeKey: this.scopeKey, estimateMicro: this.estimateMicro, deadlineAtMs: this.deadlineAtMs() });
    } catch (error) {
      this.reportRejection(error);
      throw error;
    }
    this.admittedState = state;
    this.events.admitted(state);
  }

  /**
   * Reserves `minimumMicro` (or the call's estimate, when it holds one and it is more), of which
   * `inFlightMicro` is about to be sent, once; refuses with 429 before anything is sent.
   */
  admit(minimumMicro = 0, inFlightMicro = 0): Promise<BudgetReservation | undefined> {
    if (!this.guard.enabled) return Promise.resolve(undefined);
    this.admission ??= this.reserve(this.holdsEstimate ? Math.max(this.estimateMicro, minimumMicro) : minimumMicro, inFlightMicro);
    return this.admission;
  }

  /**
   * Makes sure the reservation covers what the call spent, its requests in flight, and one more
   * request of `worstMicro`, which counts as in flight until the returned function runs; and that
   * the store knows all of it is in flight (renewing the call's leases), so that the expiry of a
   * dead process charges it. `spentMicro` is read when the top-up runs, after those queued before it.
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
      const exposure = () => spentMicro() + this.inFlightMicro;
      const reservation = this.reservation ?? (await this.admit(exposure(), exposure()));
      if (!reservation) return release;
      const cover = () => this.cover(reservation, exposure, afterAttempts);
      const covered = this.lastCover ? this.lastCover.then(cover, cover) : cover();
      this.lastCover = covered;
      try {
        await covered;
      } finally {
        if (this.lastCover === covered) this.lastCover = undefined;
      }
      return release;
    } catch (error) {
      release();
      this.reportRejection(error);
      throw error;
    }
  }

  /**
   * Tops the reservation up to `exposure` and marks it in flight. A row whose lease ended under
   * the call (a clock step, a stall) no longer holds money: the call reserves again, within the
   * limits, before anything more is sent on it.
   */
  private async cover(reservation: BudgetReservation, exposure: () => number, afterAttempts: number): Promise<void> {
    for (let round = 1; ; round++) {
      const needed = exposure();
      const missing = needed - this.guard.heldMicro(reservation);
      if (missing > 0) await this.guard.topUp(reservation, missing, afterAttempts, this.deadlineAtMs());
      if (await this.guard.markInFlight(reservation, needed, { deadlineAtMs: this.deadlineAtMs(), renew: missing > 0 })) return;
      if (round >= MAX_COVER_ROUNDS) throw new BudgetStoreUnavailableException(new Error(`the call's leases ended ${round} times while it topped up`));
    }
  }

  /** Moves the reservation to spent at what the call cost; nothing when nothing was reserved. */
  settle(settlement: CallSettlement): Promise<void> {
    return this.reservation ? this.guard.settle(this.reservation, settlement) : Promise.resolve();
  }

  private async reserve(amountMicro: number, inFlightMicro: number): Promise<BudgetReservation> {
    try {
      const knownState = this.events.wantsWindowFigures() ? undefined : this.admittedState;
      this.reservation = await this.guard.reserve({ scopeKey: this.scopeKey, amountMicro, model: this.model, deadlineAtMs: this.deadlineAtMs(), inFlightMicro, knownState });
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
