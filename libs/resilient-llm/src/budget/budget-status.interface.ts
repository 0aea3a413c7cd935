import type { BudgetWindowRow } from './budget-store.interface.js';
import type { BudgetState } from './budget-state.js';
import type { BudgetWindowKind } from './budget-window.js';

export interface BudgetWindowStatus {
  /** `global`, or a scope key. */
  scope: string;
  window: BudgetWindowKind;
  period: string;
  startsAt: string;
  endsAt: string;
  limitMicroUsd: number;
  spentMicroUsd: number;
  reservedMicroUsd: number;
  /** Spend on attempts whose result was not used (failed attempts that were billed). */
  wasteMicroUsd: number;
  limitUsd: number;
  spentUsd: number;
  reservedUsd: number;
  /** (spent + reserved) / limit. */
  ratio: number;
  state: BudgetState;
}

export interface BudgetStatus {
  scope: string;
  /** The worst state of the windows below. */
  state: BudgetState;
  windows: BudgetWindowStatus[];
}

/** One ledger row of a call: its first reservation or a top-up. */
export interface ReservationRow {
  id: string;
  amountMicro: number;
  /** False for a row the store was down for (fail-open): settled at the end whether or not its insert landed. */
  recorded?: false;
  /** The part of the amount the store knows to be in flight (requests sent): what an expired lease charges. */
  inFlightMicro?: number;
  /** The lease ended before the call did: the row holds nothing now; its money in flight was charged. */
  expired?: true;
}

/** Money held for one guarded call, in every window the call draws on. */
export interface BudgetReservation {
  readonly scopeKey?: string;
  readonly model: string;
  /** The windows (global and the scope's) the money is held in. */
  readonly windows: readonly BudgetWindowRow[];
  /** Ledger rows: the first reservation and any top-ups. */
  readonly rows: ReservationRow[];
  /** The worst window state right after reserving. */
  readonly state: BudgetState;
  /** The window closest to its limit right after reserving (for telemetry). */
  readonly tightest?: BudgetWindowStatus;
  /** False when admitted without a ledger row because the store was down (fail-open). */
  readonly recorded: boolean;
}
