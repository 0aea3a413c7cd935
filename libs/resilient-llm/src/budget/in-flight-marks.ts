import type { ReservationRow } from './budget-status.interface.js';

/**
 * What a call's rows cover in the ledger: a live row its amount, an expired one what its lease
 * charged (its money in flight). A call may have exposure (money spent or sent) up to this.
 */
export const coveredMicro = (rows: readonly ReservationRow[]): number =>
  rows.reduce((sum, row) => sum + (row.expired ? (row.inFlightMicro ?? 0) : row.amountMicro), 0);

/**
 * The marks to raise so that the store knows `exposureMicro` is in flight: the exposure fills
 * the rows in order (an expired row keeps what it was charged, a row the store never saw takes
 * its share unmarked); a live row is listed when it must be marked higher than it is.
 */
export function raisedMarks(rows: readonly ReservationRow[], exposureMicro: number): Map<ReservationRow, number> {
  const raised = new Map<ReservationRow, number>();
  let left = exposureMicro;
  for (const row of rows) {
    if (row.expired) {
      left -= row.inFlightMicro ?? 0;
      continue;
    }
    const share = Math.max(0, Math.min(left, row.amountMicro));
    left -= share;
    if (row.recorded !== false && share > (row.inFlightMicro ?? 0)) raised.set(row, share);
  }
  return raised;
}

/** The rows the store holds for the call now: the ones to renew. */
export const liveRows = (rows: readonly ReservationRow[]): ReservationRow[] => rows.filter((row) => row.recorded !== false && !row.expired);
