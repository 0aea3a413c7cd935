import { BudgetStoreUnavailableException } from './budget-store-unavailable.exception.js';
import type { Clock } from '../time/clock.interface.js';
import type { BudgetLedger } from './budget-ledger.js';
import type { BudgetReservation, ReservationRow } from './budget-status.interface.js';
import { liveRows, raisedMarks } from './in-flight-marks.js';
import type { StoreFailures } from './store-failures.js';

/** Marks the rows the store no longer holds as expired; true when all are still held. */
export function keepHeld(rows: readonly ReservationRow[], held: ReadonlySet<string>): boolean {
  let all = true;
  for (const row of rows) {
    if (held.has(row.id)) continue;
    row.expired = true;
    all = false;
  }
  return all;
}

const HELD = Promise.resolve(true);

/**
 * The leases of open calls. From its reservation to its settlement a call's rows are renewed on
 * a timer (a quarter of `budget.leaseMs`, in real time) and whenever it marks money in flight,
 * so a call that is alive keeps its money while it streams, sleeps or waits. A lease is set
 * from the module's clock: a clock stepped forward can still end a live call's lease in another
 * replica before the next renewal. Such rows are marked expired here, and the call reserves
 * again before it sends anything more; what it had in flight was charged by the expiry.
 */
export class LeaseKeeper {
  private readonly open = new Set<BudgetReservation>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly ledger: BudgetLedger,
    private readonly clock: Clock,
    private readonly leaseMs: number,
    private readonly maxWaitMs: number,
    private readonly failures: StoreFailures,
  ) {}

  start(everyMs: number): void {
    this.stop();
    this.timer = setInterval(() => void this.renewAll(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  keep(reservation: BudgetReservation): void {
    if (liveRows(reservation.rows).length > 0) this.open.add(reservation);
  }

  release(reservation: BudgetReservation): void {
    this.open.delete(reservation);
  }

  /** Renews every open call's rows now (one statement per 100 rows); one renewal at a time. */
  renewAll(): Promise<void> {
    this.running ??= this.renewOpen().finally(() => (this.running = undefined));
    return this.running;
  }

  /**
   * Raises the rows' money in flight to cover `exposureMicro` and renews them, in one statement,
   * when a mark goes up (or `renew` asks for it). False when a row turned out to have expired.
   */
  mark(reservation: BudgetReservation, exposureMicro: number, waitMs: number, renew = false): Promise<boolean> {
    const raised = raisedMarks(reservation.rows, exposureMicro);
    const rows = liveRows(reservation.rows);
    // A request within what its rows are marked for (the common case) needs no statement, and no promise of its own.
    if (rows.length === 0 || (raised.size === 0 && !renew)) return HELD;
    return this.raise(rows, raised, waitMs);
  }

  private async raise(rows: ReservationRow[], raised: Map<ReservationRow, number>, waitMs: number): Promise<boolean> {
    let held: Set<string>;
    try {
      held = await this.ledger.renew(rows.map((row) => ({ id: row.id, inFlightMicro: raised.get(row) ?? row.inFlightMicro ?? 0 })), this.leaseFromNow(), waitMs);
      this.failures.recovered();
    } catch (error) {
      if (this.failures.admitsDespite(error)) return true;
      throw new BudgetStoreUnavailableException(error);
    }
    for (const [row, mark] of raised) if (held.has(row.id)) row.inFlightMicro = mark;
    return keepHeld(rows, held);
  }

  private leaseFromNow(): number {
    return this.clock.now() + this.leaseMs;
  }

  private async renewOpen(): Promise<void> {
    const rows = [...this.open].flatMap((reservation) => liveRows(reservation.rows));
    if (rows.length === 0) return;
    try {
      keepHeld(rows, await this.ledger.renew(rows.map((row) => ({ id: row.id, inFlightMicro: 0 })), this.leaseFromNow(), this.maxWaitMs));
    } catch (error) {
      this.failures.failed('Budget store unavailable; the leases of calls in flight were not renewed', error);
    }
  }
}
