import type { BudgetWindowKind } from '../budget/budget-window.js';

export interface BudgetWindowRow {
  id: string;
  scope: string;
  kind: BudgetWindowKind;
  period: string;
  startsAt: number;
  endsAt: number;
  limitMicro: number;
}

export interface BudgetWindowSnapshot extends BudgetWindowRow {
  spentMicro: number;
  reservedMicro: number;
  wasteMicro: number;
}

export interface NewReservation {
  id: string;
  windowIds: string[];
  scope: string;
  model: string;
  amountMicro: number;
  createdAt: number;
  leaseExpiresAt: number;
}

export interface Settlement {
  state: 'committed' | 'released';
  actualMicro: number;
  wasteMicro: number;
  settledAt: number;
}

/**
 * Where budget money is kept. Every method is one atomic step: implementations must never
 * check-then-write across two statements, or concurrent calls overshoot the limit.
 */
export interface BudgetStore {
  /** Creates windows that do not exist yet, and sets the limit of those that do. */
  upsertWindows(windows: BudgetWindowRow[]): Promise<void>;
  /** Holds `amountMicro` in every window, or in none: `false` when one cannot hold it. */
  reserve(reservation: NewReservation): Promise<boolean>;
  /** Settles a held (or lease-expired) reservation once; `false` if it was already settled. */
  settle(reservationId: string, settlement: Settlement): Promise<boolean>;
  /**
   * Settles a reservation whose insert the store never confirmed (it timed out, or the store was
   * down and the call was admitted): settles the row if the insert did land, inserts it already
   * settled if not (so that an insert arriving later fails and holds nothing), and does nothing
   * when it is settled already. Safe to retry.
   */
  settleUnconfirmed(reservation: NewReservation, settlement: Settlement): Promise<void>;
  /** Returns the money of held reservations whose lease ended before `nowMs`; how many expired. */
  expireLeases(nowMs: number): Promise<number>;
  readWindows(ids: string[]): Promise<BudgetWindowSnapshot[]>;
}

/** Injection token of the BudgetStore; override it to keep budgets elsewhere. */
export const RESILIENT_LLM_BUDGET_STORE = 'RESILIENT_LLM:BUDGET_STORE';
