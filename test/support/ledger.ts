import type { DataSource } from 'typeorm';

export interface LedgerTotals {
  /** Held money: what the window counters say, and what the held rows add up to. */
  reservedMicro: { counters: number; rows: number };
  /** Spent money: what the window counters say, and what the rows add up to. */
  spentMicro: { counters: number; rows: number };
}

/**
 * The global daily window of the ledger, as its counters and as the sum of its rows: after
 * any fault, both must agree, nothing may stay held, and spent must be what was settled.
 */
export async function globalDailyLedger(dataSource: DataSource): Promise<LedgerTotals> {
  const windows: Array<{ id: string; spent_micro: string; reserved_micro: string }> = await dataSource.query(
    `SELECT id, spent_micro, reserved_micro FROM resilient_llm_budget_window WHERE scope = 'global' AND kind = 'daily'`,
  );
  const [window] = windows;
  const rows: Array<{ amount_micro: string; actual_micro: string; state: string; window_ids: string }> = await dataSource.query(
    'SELECT amount_micro, actual_micro, state, window_ids FROM resilient_llm_budget_reservation',
  );
  const mine = rows.filter((row) => (JSON.parse(row.window_ids) as string[]).includes(window.id));
  return {
    reservedMicro: { counters: Number(window.reserved_micro), rows: mine.filter((row) => row.state === 'held').reduce((sum, row) => sum + Number(row.amount_micro), 0) },
    spentMicro: { counters: Number(window.spent_micro), rows: mine.reduce((sum, row) => sum + Number(row.actual_micro), 0) },
  };
}

/** What the reservation rows of one window add up to: its counters must always say the same. */
export async function ledgerRowTotals(dataSource: DataSource, windowId: string): Promise<{ reservedMicro: number; spentMicro: number; wasteMicro: number }> {
  const rows: Array<{ amount_micro: string; actual_micro: string; waste_micro: string; state: string; window_ids: string }> = await dataSource.query(
    'SELECT amount_micro, actual_micro, waste_micro, state, window_ids FROM resilient_llm_budget_reservation',
  );
  const mine = rows.filter((row) => (JSON.parse(row.window_ids) as string[]).includes(windowId));
  return {
    reservedMicro: mine.filter((row) => row.state === 'held').reduce((sum, row) => sum + Number(row.amount_micro), 0),
    spentMicro: mine.reduce((sum, row) => sum + Number(row.actual_micro), 0),
    wasteMicro: mine.reduce((sum, row) => sum + Number(row.waste_micro), 0),
  };
}
