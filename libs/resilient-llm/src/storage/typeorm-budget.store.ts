import type { DataSource } from 'typeorm';
import type { BudgetWindowKind } from '../budget/budget-window.js';
import { SqlStatements } from './sql-statements.js';
import type {
  BudgetStore,
  BudgetWindowRow,
  BudgetWindowSnapshot,
  NewReservation,
  Settlement,
} from './budget-store.interface.js';

const WINDOW_COLUMNS = 'id, scope, kind, period, starts_at, ends_at, limit_micro, spent_micro, reserved_micro, waste_micro';
const EXHAUSTED = 'resilient_llm:budget_exhausted';
const EXPIRY_BATCH = 100;
const RESERVATIONS = 'resilient_llm_budget_reservation';

interface WindowRecord {
  id: string;
  scope: string;
  kind: BudgetWindowKind;
  period: string;
  starts_at: string | number;
  ends_at: string | number;
  limit_micro: string | number;
  spent_micro: string | number;
  reserved_micro: string | number;
  waste_micro: string | number;
}

const toSnapshot = (row: WindowRecord): BudgetWindowSnapshot => ({
  id: row.id,
  scope: row.scope,
  kind: row.kind,
  period: row.period,
  startsAt: Number(row.starts_at),
  endsAt: Number(row.ends_at),
  limitMicro: Number(row.limit_micro),
  spentMicro: Number(row.spent_micro),
  reservedMicro: Number(row.reserved_micro),
  wasteMicro: Number(row.waste_micro),
});

/**
 * The budget ledger on SQLite (better-sqlite3) or PostgreSQL through TypeORM. Each method is
 * a single SQL statement; the triggers of the ledger migration move money between the windows
 * within it, so there is no multi-statement transaction to interleave or to lose in a crash.
 */
export class TypeOrmBudgetStore implements BudgetStore {
  private readonly sql: SqlStatements;

  constructor(dataSource: DataSource) {
    this.sql = new SqlStatements(dataSource);
  }

  async upsertWindows(windows: BudgetWindowRow[]): Promise<void> {
    for (const window of windows) {
      await this.sql.run(
        `INSERT INTO resilient_llm_budget_window (id, scope, kind, period, starts_at, ends_at, limit_micro)
         VALUES (${this.sql.params(7)})
         ON CONFLICT (id) DO UPDATE SET limit_micro = excluded.limit_micro`,
        [window.id, window.scope, window.kind, window.period, window.startsAt, window.endsAt, window.limitMicro],
      );
    }
  }

  async reserve(reservation: NewReservation): Promise<boolean> {
    try {
      await this.insertReservation(reservation, { state: 'held', actualMicro: 0, wasteMicro: 0, settledAt: null });
      return true;
    } catch (error) {
      if ((error as Error).message?.includes(EXHAUSTED)) return false;
      throw error;
    }
  }

  async settleUnconfirmed(reservation: NewReservation, settlement: Settlement): Promise<void> {
    // Inserted settled, the row holds nothing (amount 0); found held or expired, it is settled in place.
    await this.insertReservation(
      { ...reservation, amountMicro: 0 },
      settlement,
      ` ON CONFLICT (id) DO UPDATE SET state = excluded.state, actual_micro = excluded.actual_micro,
          waste_micro = excluded.waste_micro, settled_at = excluded.settled_at
        WHERE ${RESERVATIONS}.settled_at IS NULL AND ${RESERVATIONS}.state IN ('held', 'expired')`,
    );
  }

  private async insertReservation(
    reservation: NewReservation,
    outcome: { state: 'held' | Settlement['state']; actualMicro: number; wasteMicro: number; settledAt: number | null },
    onConflict = '',
  ): Promise<void> {
    await this.sql.run(
      `INSERT INTO ${RESERVATIONS}
         (id, window_ids, scope, model, amount_micro, actual_micro, waste_micro, state, created_at, lease_expires_at, settled_at)
       VALUES (${this.sql.params(11)})${onConflict}`,
      [
        reservation.id,
        JSON.stringify(reservation.windowIds),
        reservation.scope,
        reservation.model,
        reservation.amountMicro,
        outcome.actualMicro,
        outcome.wasteMicro,
        outcome.state,
        reservation.createdAt,
        reservation.leaseExpiresAt,
        outcome.settledAt,
      ],
    );
  }

  async settle(reservationId: string, settlement: Settlement): Promise<boolean> {
    // A lease that expired gave its money back; settling it late still records what was spent.
    const { affected } = await this.sql.run(
      `UPDATE resilient_llm_budget_reservation
          SET state = ${this.sql.param(1)}, actual_micro = ${this.sql.param(2)}, waste_micro = ${this.sql.param(3)}, settled_at = ${this.sql.param(4)}
        WHERE id = ${this.sql.param(5)} AND settled_at IS NULL AND state IN ('held', 'expired')`,
      [settlement.state, settlement.actualMicro, settlement.wasteMicro, settlement.settledAt, reservationId],
    );
    return affected === 1;
  }

  async expireLeases(nowMs: number): Promise<number> {
    const { records: due } = await this.sql.run<{ id: string }>(
      `SELECT id FROM resilient_llm_budget_reservation WHERE state = 'held' AND lease_expires_at < ${this.sql.param(1)} LIMIT ${EXPIRY_BATCH}`,
      [nowMs],
    );
    let expired = 0;
    // One row per statement: each locks only its own windows, in order, so expiry cannot deadlock with reservations.
    for (const { id } of due) {
      const { affected } = await this.sql.run(
        `UPDATE resilient_llm_budget_reservation SET state = 'expired' WHERE id = ${this.sql.param(1)} AND state = 'held'`,
        [id],
      );
      expired += affected;
    }
    return expired;
  }

  async readWindows(ids: string[]): Promise<BudgetWindowSnapshot[]> {
    if (ids.length === 0) return [];
    const { records: rows } = await this.sql.run<WindowRecord>(
      `SELECT ${WINDOW_COLUMNS} FROM resilient_llm_budget_window WHERE id IN (${this.sql.params(ids.length)})`,
      ids,
    );
    return rows.map(toSnapshot);
  }
}
