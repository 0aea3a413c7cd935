import type { BudgetWindowKind } from '../budget/budget-window.js';
import type { BudgetRefusal, BudgetWindowSnapshot, LeaseRenewal } from '../budget/budget-store.interface.js';
import type { SqlStatements } from './sql-statements.js';
import { BUDGET_RESERVATION_TABLE, BUDGET_WINDOW_TABLE, allColumns } from './store-tables.js';

const RESERVATIONS = BUDGET_RESERVATION_TABLE.name;
const EXHAUSTED = 'resilient_llm:budget_exhausted';
export const WINDOW_COLUMNS = allColumns(BUDGET_WINDOW_TABLE);

/** A window row as the drivers return it (PostgreSQL's bigints as strings). */
export interface WindowRecord {
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

export const toSnapshot = (row: WindowRecord): BudgetWindowSnapshot => ({
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

/** Rows renewed per statement: bounds the statement's size and the prepared statements kept per row count. */
export const RENEWAL_BATCH = 100;

interface RefusedWindow {
  id?: unknown;
  spent?: unknown;
  reserved?: unknown;
  limit?: unknown;
}

/**
 * The ledger's refusal in a failed insert: the windows that could not hold it, as the trigger
 * reported them. `false` for a refusal that names none (a ledger the last migration has not
 * reached); undefined when the error is no refusal at all.
 */
export function refusalIn(error: unknown): BudgetRefusal | false | undefined {
  const message = String((error as Error)?.message ?? '');
  const at = message.indexOf(EXHAUSTED);
  if (at < 0) return undefined;
  const json = /^:(\[.*\])/s.exec(message.slice(at + EXHAUSTED.length))?.[1];
  if (!json) return false;
  try {
    const windows = JSON.parse(json) as RefusedWindow[];
    const refused = windows.map((window) => ({
      windowId: String(window.id),
      spentMicro: Number(window.spent),
      reservedMicro: Number(window.reserved),
      limitMicro: Number(window.limit),
    }));
    return refused.length > 0 && refused.every((w) => Number.isFinite(w.spentMicro + w.reservedMicro + w.limitMicro)) ? { refused } : false;
  } catch {
    return false;
  }
}

const greatest = (sql: SqlStatements) => (sql.postgres ? 'GREATEST' : 'MAX');
const least = (sql: SqlStatements) => (sql.postgres ? 'LEAST' : 'MIN');
const bigint = (sql: SqlStatements, index: number) => (sql.postgres ? `${sql.param(index)}::bigint` : sql.param(index));

/**
 * One statement for a batch of renewals: the lease never moves back (a replica whose clock is
 * behind cannot shorten it), money in flight never goes down, and only held rows change.
 * Returns the ids it renewed.
 */
export function renewalStatement(sql: SqlStatements, renewals: readonly LeaseRenewal[], leaseExpiresAt: number): { text: string; parameters: unknown[] } {
  const parameters: unknown[] = [leaseExpiresAt];
  const marked = renewals.filter((renewal) => renewal.inFlightMicro > 0);
  let inFlight = '';
  if (marked.length > 0) {
    const cases = marked.map((renewal) => {
      parameters.push(renewal.id, renewal.inFlightMicro);
      return `WHEN ${sql.param(parameters.length - 1)} THEN ${bigint(sql, parameters.length)}`;
    });
    inFlight = `, in_flight_micro = ${greatest(sql)}(in_flight_micro, CASE id ${cases.join(' ')} ELSE 0 END)`;
  }
  const from = parameters.length + 1;
  parameters.push(...renewals.map((renewal) => renewal.id));
  return {
    text: `UPDATE ${RESERVATIONS}
              SET lease_expires_at = ${greatest(sql)}(lease_expires_at, ${bigint(sql, 1)})${inFlight}
            WHERE id IN (${sql.params(renewals.length, from)}) AND state = 'held'
        RETURNING id`,
    parameters,
  };
}

/** Ends one held row whose lease is over: its money in flight is charged (spent and waste), the rest goes back. */
export function expiryStatement(sql: SqlStatements): string {
  const charged = `${least(sql)}(in_flight_micro, amount_micro)`;
  return `UPDATE ${RESERVATIONS} SET state = 'expired', actual_micro = ${charged}, waste_micro = ${charged}
           WHERE id = ${sql.param(1)} AND state = 'held' AND lease_expires_at < ${sql.param(2)}`;
}
