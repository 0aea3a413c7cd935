import type { DataSource } from 'typeorm';
import { SqlStatements } from './sql-statements.js';
import type {
  BudgetRefusal,
  BudgetStore,
  BudgetWindowRow,
  BudgetWindowSnapshot,
  LeaseRenewal,
  NewReservation,
  Settlement,
} from '../budget/budget-store.interface.js';
import { RENEWAL_BATCH, WINDOW_COLUMNS, type WindowRecord, expiryStatement, refusalIn, renewalStatement, toSnapshot } from './ledger-sql.js';
import { BUDGET_RESERVATION_TABLE, BUDGET_WINDOW_TABLE, columnList } from './store-tables.js';

const EXPIRY_BATCH = 100;
const RESERVATIONS = BUDGET_RESERVATION_TABLE.name;
const WINDOWS = BUDGET_WINDOW_TABLE.name;
const NEW_WINDOW_COLUMNS = columnList(BUDGET_WINDOW_TABLE, 'id', 'scope', 'kind', 'period', 'starts_at', 'ends_at', 'limit_micro');
// In the order of insertReservation's values.
const RESERVATION_COLUMNS = columnList(
  BUDGET_RESERVATION_TABLE,
  'id',
  'window_ids',
  'window_limits',
  'scope',
  'model',
  'amount_micro',
  'in_flight_micro',
  'actual_micro',
  'waste_micro',
  'state',
  'created_at',
  'lease_expires_at',
  'settled_at',
);

/**
 * The budget ledger on SQLite (better-sqlite3) or PostgreSQL through TypeORM. Each method is
 * a single SQL statement; the triggers of the ledger migration move money between the windows
 * within it, so there is no multi-statement transaction to interleave or to lose in a crash.
 */
export class TypeOrmBudgetStore implements BudgetStore {
  private readonly sql: SqlStatements;
  // Built once: the hot statements run on every call, and SQLite finds its prepared statement by the text's hash, which a string keeps.
  private readonly texts: ReturnType<typeof statementTexts>;

  constructor(dataSource: DataSource) {
    this.sql = new SqlStatements(dataSource);
    this.texts = statementTexts(this.sql);
  }

  async upsertWindows(windows: BudgetWindowRow[]): Promise<void> {
    for (const window of windows) {
      await this.sql.run(this.texts.upsertWindow, [window.id, window.scope, window.kind, window.period, window.startsAt, window.endsAt, window.limitMicro]);
    }
  }

  async reserve(reservation: NewReservation): Promise<boolean | BudgetRefusal> {
    try {
      await this.insertReservation(this.texts.insertHeld, reservation, { state: 'held', actualMicro: 0, wasteMicro: 0, settledAt: null });
      return true;
    } catch (error) {
      const refusal = refusalIn(error);
      if (refusal === undefined) throw error;
      return refusal;
    }
  }

  async settleUnconfirmed(reservation: NewReservation, settlement: Settlement): Promise<void> {
    // Inserted settled, the row holds nothing (amount 0); found held or expired, it is settled in place.
    await this.insertReservation(this.texts.insertSettled, { ...reservation, amountMicro: 0, inFlightMicro: 0 }, settlement);
  }

  private async insertReservation(
    text: string,
    reservation: NewReservation,
    outcome: { state: 'held' | Settlement['state']; actualMicro: number; wasteMicro: number; settledAt: number | null },
  ): Promise<void> {
    await this.sql.run(
      text,
      [
        reservation.id,
        JSON.stringify(reservation.windowIds),
        reservation.limitsMicro ? JSON.stringify(reservation.limitsMicro) : null,
        reservation.scope,
        reservation.model,
        reservation.amountMicro,
        Math.min(reservation.inFlightMicro ?? 0, reservation.amountMicro),
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
    // A lease that expired charged its money in flight and gave the rest back; settling it late
    // replaces that charge with what was spent (the triggers move the difference), once.
    const { affected } = await this.sql.run(this.texts.settle, [settlement.state, settlement.actualMicro, settlement.wasteMicro, settlement.settledAt, reservationId]);
    return affected === 1;
  }

  async renewLeases(renewals: LeaseRenewal[], leaseExpiresAt: number): Promise<string[]> {
    const held: string[] = [];
    for (let from = 0; from < renewals.length; from += RENEWAL_BATCH) {
      const { text, parameters } = renewalStatement(this.sql, renewals.slice(from, from + RENEWAL_BATCH), leaseExpiresAt);
      const { records } = await this.sql.run<{ id: string }>(text, parameters);
      held.push(...records.map((record) => record.id));
    }
    return held;
  }

  async expireLeases(nowMs: number): Promise<number> {
    const { records: due } = await this.sql.run<{ id: string }>(this.texts.dueLeases, [nowMs]);
    let expired = 0;
    // One row per statement: each locks only its own windows, in order, so expiry cannot deadlock with reservations.
    // The lease is checked again: a call may have renewed it since the read.
    for (const { id } of due) expired += (await this.sql.run(this.texts.expire, [id, nowMs])).affected;
    return expired;
  }

  async readWindows(ids: string[]): Promise<BudgetWindowSnapshot[]> {
    if (ids.length === 0) return [];
    // Calls arriving together check the same windows: on SQLite their reads share one.
    const { records: rows } = await this.sql.read<WindowRecord>(this.texts.readWindows(ids.length), ids);
    return rows.map(toSnapshot);
  }
}

/** The store's statements in the DataSource's dialect. */
function statementTexts(sql: SqlStatements) {
  const insert = `INSERT INTO ${RESERVATIONS} (${RESERVATION_COLUMNS}) VALUES (${sql.params(13)})`;
  const reads = new Map<number, string>();
  return {
    upsertWindow: `INSERT INTO ${WINDOWS} (${NEW_WINDOW_COLUMNS}) VALUES (${sql.params(7)}) ON CONFLICT (id) DO UPDATE SET limit_micro = excluded.limit_micro`,
    insertHeld: insert,
    insertSettled: `${insert} ON CONFLICT (id) DO UPDATE SET state = excluded.state, actual_micro = excluded.actual_micro,
          waste_micro = excluded.waste_micro, settled_at = excluded.settled_at
        WHERE ${RESERVATIONS}.settled_at IS NULL AND ${RESERVATIONS}.state IN ('held', 'expired')`,
    settle: `UPDATE ${RESERVATIONS}
          SET state = ${sql.param(1)}, actual_micro = ${sql.param(2)}, waste_micro = ${sql.param(3)}, settled_at = ${sql.param(4)}
        WHERE id = ${sql.param(5)} AND settled_at IS NULL AND state IN ('held', 'expired')`,
    dueLeases: `SELECT id FROM ${RESERVATIONS} WHERE state = 'held' AND lease_expires_at < ${sql.param(1)} LIMIT ${EXPIRY_BATCH}`,
    expire: expiryStatement(sql),
    /** For `count` window ids: a scope's set has a handful, so there are only a few of these. */
    readWindows(count: number): string {
      let text = reads.get(count);
      if (text === undefined) reads.set(count, (text = `SELECT ${WINDOW_COLUMNS} FROM ${WINDOWS} WHERE id IN (${sql.params(count)})`));
      return text;
    },
  };
}
