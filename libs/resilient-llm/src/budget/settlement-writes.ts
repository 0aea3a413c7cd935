import { randomUUID } from 'node:crypto';
import type { NewReservation } from './budget-store.interface.js';
import type { BudgetLedger } from './budget-ledger.js';
import type { BudgetReservation } from './budget-status.interface.js';
import type { StoreWrite } from './deferred-store-writes.js';

export interface CallSettlement {
  /** What the call cost in all (completions plus charged failed attempts), in micro-dollars. */
  actualMicro: number;
  /** The part of it whose result was not used. */
  wasteMicro: number;
  succeeded: boolean;
}

/**
 * The writes that settle a call: each row gets a share of the cost (up to its amount, the last
 * one the rest and the waste). A row whose lease expired is settled too: the cost replaces what
 * its expiry charged, once, so a slow process that settles late counts nothing twice.
 */
export function settlementWrites(
  ledger: BudgetLedger,
  reservation: BudgetReservation,
  outcome: CallSettlement,
  settledAt: number,
  rowAgain: (id: string, amountMicro: number) => NewReservation,
): StoreWrite[] {
  const rows = reservation.rows.length > 0 ? reservation.rows : [{ id: randomUUID(), amountMicro: 0, recorded: false as const }];
  let remaining = outcome.actualMicro;
  return rows.map((row, index) => {
    const last = index === rows.length - 1;
    const actualMicro = last ? remaining : Math.min(remaining, row.amountMicro);
    remaining -= actualMicro;
    const settlement = { state: outcome.succeeded ? ('committed' as const) : ('released' as const), actualMicro, wasteMicro: last ? outcome.wasteMicro : 0, settledAt };
    if (row.recorded !== false) return ledger.settlement(row.id, settlement);
    return ledger.unconfirmedSettlement(rowAgain(row.id, row.amountMicro), reservation.windows, settlement);
  });
}
