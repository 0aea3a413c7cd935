import type { BudgetWindowKind } from './budget-window.js';

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
  /** The limit of each window in `windowIds` as this replica is configured, which the reservation is checked against; omitted: the stored limits. */
  limitsMicro?: number[];
  scope: string;
  model: string;
  amountMicro: number;
  /** The part of the amount that covers requests already sent (default 0): what an expired lease charges. */
  inFlightMicro?: number;
  createdAt: number;
  leaseExpiresAt: number;
}

/** A window that could not hold a reservation, with the figures it was checked against. */
export interface WindowRefusal {
  windowId: string;
  spentMicro: number;
  reservedMicro: number;
  /** The limit the reserving replica is configured with (the stored limit is for display). */
  limitMicro: number;
}

/** Why a reservation was refused: every window that could not hold it, as the atomic check saw it. */
export interface BudgetRefusal {
  refused: WindowRefusal[];
}

/** Raises a held reservation's money in flight (never lowers it); `inFlightMicro` 0 only renews its lease. */
export interface LeaseRenewal {
  id: string;
  inFlightMicro: number;
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
  /**
   * Holds `amountMicro` in every window, or in none, checking each window against its limit
   * in `limitsMicro` (not the stored one, which the last replica to write the window set): `true` when held; when not, the windows that refused (or `false` from a
   * store that cannot tell which).
   */
  reserve(reservation: NewReservation): Promise<boolean | BudgetRefusal>;
  /** Settles a held (or lease-expired) reservation once; `false` if it was already settled. */
  settle(reservationId: string, settlement: Settlement): Promise<boolean>;
  /**
   * Settles a reservation whose insert the store never confirmed (it timed out, or the store was
   * down and the call was admitted): settles the row if the insert did land, inserts it already
   * settled if not (so that an insert arriving later fails and holds nothing), and does nothing
   * when it is settled already. Safe to retry.
   */
  settleUnconfirmed(reservation: NewReservation, settlement: Settlement): Promise<void>;
  /**
   * Pushes the lease of held reservations forward to `leaseExpiresAt` (never back) and raises their
   * money in flight to at least `inFlightMicro`, in one statement; returns the ids still held (the
   * others expired). A live call renews its rows, and marks what it sends before sending it.
   */
  renewLeases(renewals: LeaseRenewal[], leaseExpiresAt: number): Promise<string[]>;
  /**
   * Ends held reservations whose lease ended before `nowMs` (their process died, or stopped
   * renewing): the part in flight is charged as spent and waste, the rest goes back. A late
   * settlement still replaces that charge with what was really spent. How many expired.
   */
  expireLeases(nowMs: number): Promise<number>;
  readWindows(ids: string[]): Promise<BudgetWindowSnapshot[]>;
}

/** Injection token of the BudgetStore; override it to keep budgets elsewhere. */
export const RESILIENT_LLM_BUDGET_STORE = 'RESILIENT_LLM:BUDGET_STORE';
