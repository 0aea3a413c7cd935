/**
 * The store's tables and columns as the migrations create them. The stores' statements take
 * table names and column lists from here (typed, so a list can only name a column listed
 * here), and `test/schema-description.e2e-spec.ts` checks each list against the migrated
 * database: the migrations stay the one description, and this can neither drift from them
 * nor from the statements.
 */
export interface StoreTable {
  readonly name: string;
  readonly columns: readonly string[];
}

export const BUDGET_WINDOW_TABLE = {
  name: 'resilient_llm_budget_window',
  columns: ['id', 'scope', 'kind', 'period', 'starts_at', 'ends_at', 'limit_micro', 'spent_micro', 'reserved_micro', 'waste_micro'],
} as const satisfies StoreTable;

export const BUDGET_RESERVATION_TABLE = {
  name: 'resilient_llm_budget_reservation',
  columns: [
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
  ],
} as const satisfies StoreTable;

export const IDEMPOTENCY_RECORD_TABLE = {
  name: 'resilient_llm_idempotency_record',
  columns: [
    'id',
    'scope',
    'idempotency_key',
    'fingerprint',
    'state',
    'owner',
    'lease_expires_at',
    'status_code',
    'response_headers',
    'response_body',
    'response_kind',
    'created_at',
    'expires_at',
  ],
} as const satisfies StoreTable;

export const STORE_TABLES: readonly StoreTable[] = [BUDGET_WINDOW_TABLE, BUDGET_RESERVATION_TABLE, IDEMPOTENCY_RECORD_TABLE];

export type ColumnOf<T extends StoreTable> = T['columns'][number];

/** A comma-separated column list for a statement; only columns of `table` compile. */
export function columnList<T extends StoreTable>(table: T, ...columns: ColumnOf<T>[]): string {
  return columns.join(', ');
}

/** Every column of `table`, in the order listed above. */
export const allColumns = (table: StoreTable): string => table.columns.join(', ');
