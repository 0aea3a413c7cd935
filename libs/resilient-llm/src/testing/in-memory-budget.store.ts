import type {
  BudgetRefusal,
  BudgetStore,
  BudgetWindowRow,
  BudgetWindowSnapshot,
  LeaseRenewal,
  NewReservation,
  Settlement,
  WindowRefusal,
} from '../budget/budget-store.interface.js';

type RowState = 'held' | 'expired' | Settlement['state'];

interface ReservationRow {
  /** Each window once: a row moves a window's counters once, however often the window is named. */
  windowIds: string[];
  amountMicro: number;
  inFlightMicro: number;
  actualMicro: number;
  wasteMicro: number;
  state: RowState;
  leaseExpiresAt: number;
  settledAt: number | null;
}

type RowOutcome = Pick<ReservationRow, 'state' | 'actualMicro' | 'wasteMicro' | 'settledAt'>;

/** Leases ended per call, as the SQL store's expiry batch. */
const EXPIRY_BATCH = 100;

/**
 * A `BudgetStore` in two Maps, for unit tests of code that takes one: the same answers as the
 * SQLite and PostgreSQL stores (`test/budget-store-contract.e2e-spec.ts` runs one suite against
 * all three), with no database. Each method runs to its end before another starts, as each SQL
 * statement is atomic; a failed one changes nothing, as a failed statement is rolled back. One
 * process only: replicas sharing a budget need a shared store.
 */
export class InMemoryBudgetStore implements BudgetStore {
  private readonly windows = new Map<string, BudgetWindowSnapshot>();
  private readonly reservations = new Map<string, ReservationRow>();

  async upsertWindows(windows: BudgetWindowRow[]): Promise<void> {
    for (const window of windows) {
      const stored = this.windows.get(window.id);
      if (stored) stored.limitMicro = window.limitMicro;
      else this.windows.set(window.id, { ...window, spentMicro: 0, reservedMicro: 0, wasteMicro: 0 });
    }
  }

  async reserve(reservation: NewReservation): Promise<boolean | BudgetRefusal> {
    // As the ledger's insert trigger: windows checked (against the replica's limits) before the id is.
    const unknown = reservation.windowIds.find((id) => !this.windows.has(id));
    if (unknown !== undefined) throw new Error(`resilient_llm:unknown_window:${unknown}`);
    const refused = this.refusals(reservation);
    if (refused.length > 0) return { refused };
    const row = this.newRow(reservation, { state: 'held', actualMicro: 0, wasteMicro: 0, settledAt: null });
    this.shift(row.windowIds, { reservedMicro: row.amountMicro });
    this.reservations.set(reservation.id, row);
    return true;
  }

  async settle(reservationId: string, settlement: Settlement): Promise<boolean> {
    const row = this.reservations.get(reservationId);
    if (!row || !settleable(row)) return false;
    this.update(row, settlement);
    return true;
  }

  async settleUnconfirmed(reservation: NewReservation, settlement: Settlement): Promise<void> {
    const row = this.reservations.get(reservation.id);
    if (row) {
      if (settleable(row)) this.update(row, settlement);
      return;
    }
    // Inserted settled, the row holds nothing: its spend counts in the windows that exist.
    const settled = this.newRow({ ...reservation, amountMicro: 0, inFlightMicro: 0 }, settlement);
    this.shift(settled.windowIds.filter((id) => this.windows.has(id)), { spentMicro: settled.actualMicro, wasteMicro: settled.wasteMicro });
    this.reservations.set(reservation.id, settled);
  }

  async renewLeases(renewals: LeaseRenewal[], leaseExpiresAt: number): Promise<string[]> {
    // One statement per batch in the SQL store: each id is renewed once, by the first mark that names it.
    const marks = new Map<string, number>();
    for (const renewal of renewals) if (renewal.inFlightMicro > 0 && !marks.has(renewal.id)) marks.set(renewal.id, renewal.inFlightMicro);
    const held: string[] = [];
    for (const id of new Set(renewals.map((renewal) => renewal.id))) {
      const row = this.reservations.get(id);
      if (row?.state !== 'held') continue;
      row.leaseExpiresAt = Math.max(row.leaseExpiresAt, leaseExpiresAt);
      // Not capped at the amount here: the expiry charges at most the amount.
      row.inFlightMicro = Math.max(row.inFlightMicro, marks.get(id) ?? 0);
      held.push(id);
    }
    return held;
  }

  async expireLeases(nowMs: number): Promise<number> {
    const due = [...this.reservations.values()]
      .filter((row) => row.state === 'held' && row.leaseExpiresAt < nowMs)
      .sort((a, b) => a.leaseExpiresAt - b.leaseExpiresAt)
      .slice(0, EXPIRY_BATCH);
    for (const row of due) {
      const charged = Math.min(row.inFlightMicro, row.amountMicro);
      this.update(row, { state: 'expired', actualMicro: charged, wasteMicro: charged, settledAt: null });
    }
    return due.length;
  }

  async readWindows(ids: string[]): Promise<BudgetWindowSnapshot[]> {
    return [...new Set(ids)].flatMap((id) => {
      const window = this.windows.get(id);
      return window ? [{ ...window }] : [];
    });
  }

  private refusals(reservation: NewReservation): WindowRefusal[] {
    return reservation.windowIds.flatMap((windowId, position) => {
      const { spentMicro, reservedMicro, limitMicro: stored } = this.windows.get(windowId)!;
      // A row without limits (from a replica older than the per-replica check) meets the stored ones.
      const limitMicro = reservation.limitsMicro?.[position] ?? stored;
      return spentMicro + reservedMicro + reservation.amountMicro > limitMicro ? [{ windowId, spentMicro, reservedMicro, limitMicro }] : [];
    });
  }

  private newRow(reservation: NewReservation, outcome: RowOutcome): ReservationRow {
    if (this.reservations.has(reservation.id)) throw new Error(`duplicate key: budget reservation ${reservation.id} exists`);
    const row: ReservationRow = {
      windowIds: [...new Set(reservation.windowIds)],
      amountMicro: reservation.amountMicro,
      inFlightMicro: Math.min(reservation.inFlightMicro ?? 0, reservation.amountMicro),
      leaseExpiresAt: reservation.leaseExpiresAt,
      ...outcome,
    };
    assertMoney(row);
    return row;
  }

  /** What the ledger's update trigger does: a row that stops being held gives its amount back; spent and waste move by the difference. */
  private update(row: ReservationRow, next: RowOutcome): void {
    assertMoney({ ...row, ...next });
    const released = row.state === 'held' && next.state !== 'held' ? row.amountMicro : 0;
    this.shift(row.windowIds, { reservedMicro: -released, spentMicro: next.actualMicro - row.actualMicro, wasteMicro: next.wasteMicro - row.wasteMicro });
    Object.assign(row, next);
  }

  /** Moves the counters of every window, or of none: a counter may not go below zero. */
  private shift(ids: string[], by: Partial<Record<'spentMicro' | 'reservedMicro' | 'wasteMicro', number>>): void {
    const windows = ids.flatMap((id) => this.windows.get(id) ?? []);
    const moved = windows.map((window) => ({
      window,
      spentMicro: window.spentMicro + (by.spentMicro ?? 0),
      reservedMicro: window.reservedMicro + (by.reservedMicro ?? 0),
      wasteMicro: window.wasteMicro + (by.wasteMicro ?? 0),
    }));
    if (moved.some((m) => m.spentMicro < 0 || m.reservedMicro < 0 || m.wasteMicro < 0)) throw new Error('budget window counters cannot go below zero');
    for (const { window, ...counters } of moved) Object.assign(window, counters);
  }
}

/** A lease that ended may still be settled (the late settlement replaces what the expiry charged); a settled row never again. */
const settleable = (row: ReservationRow): boolean => row.settledAt === null && (row.state === 'held' || row.state === 'expired');

/** The ledger's check constraint on a reservation's amounts. */
function assertMoney(row: Pick<ReservationRow, 'amountMicro' | 'actualMicro' | 'wasteMicro'>): void {
  if (row.amountMicro < 0 || row.actualMicro < 0 || row.wasteMicro < 0) {
    throw new Error(`budget reservation amounts cannot be negative (amount ${row.amountMicro}, actual ${row.actualMicro}, waste ${row.wasteMicro})`);
  }
}
