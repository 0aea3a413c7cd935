import { randomUUID } from 'node:crypto';
import { scopeIdOf } from './budget-scope.js';
import type { BudgetWindowRow, NewReservation } from './budget-store.interface.js';

/** A ledger row holding `amountMicro` in every one of `windows`, checked against this replica's limits, its lease `leaseMs` from `now`. */
export function newReservationRow(
  leaseMs: number,
  windows: readonly BudgetWindowRow[],
  scopeKey: string | undefined,
  model: string,
  amountMicro: number,
  now: number,
  id: string = randomUUID(),
): NewReservation {
  return {
    id,
    windowIds: windows.map((window) => window.id),
    limitsMicro: windows.map((window) => window.limitMicro),
    scope: scopeIdOf(scopeKey),
    model,
    amountMicro,
    createdAt: now,
    leaseExpiresAt: now + leaseMs,
  };
}
