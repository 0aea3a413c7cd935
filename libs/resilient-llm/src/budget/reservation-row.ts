import { randomUUID } from 'node:crypto';
import { scopeIdOf } from './budget-scope.js';
import type { BudgetState } from './budget-state.js';
import type { BudgetWindowRow, NewReservation } from './budget-store.interface.js';
import type { BudgetReservation, BudgetWindowStatus, ReservationRow } from './budget-status.interface.js';

/**
 * A new ledger row's id: a UUID whose first 48 bits are the time (the UUIDv7 layout), the rest
 * random. Rows then land at the end of the id index instead of all over it: on SQLite, each
 * insert dirties (and each commit writes) a page or two fewer.
 */
export function newRowId(): string {
  const random = randomUUID();
  const time = Date.now().toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15, 18)}-${random.slice(19)}`;
}

/**
 * A ledger row holding `amountMicro` in every one of `windows`, checked against this replica's
 * limits, `inFlightMicro` of it marked in flight, its lease `leaseMs` from `now`.
 */
export function newReservationRow(
  leaseMs: number,
  windows: readonly BudgetWindowRow[],
  scopeKey: string | undefined,
  model: string,
  amountMicro: number,
  now: number,
  inFlightMicro = 0,
  id: string = newRowId(),
): NewReservation {
  return {
    id,
    windowIds: windows.map((window) => window.id),
    limitsMicro: windows.map((window) => window.limitMicro),
    scope: scopeIdOf(scopeKey),
    model,
    amountMicro,
    inFlightMicro,
    createdAt: now,
    leaseExpiresAt: now + leaseMs,
  };
}

/** A call's reservation, every one built here with the same properties in the same order (one object shape on the hot path). */
export function reservationOf(
  call: { scopeKey?: string; model: string },
  windows: readonly BudgetWindowRow[],
  rows: ReservationRow[],
  state: BudgetState,
  recorded: boolean,
  tightest?: BudgetWindowStatus,
): BudgetReservation {
  return { scopeKey: call.scopeKey, model: call.model, windows, rows, state, tightest, recorded };
}
