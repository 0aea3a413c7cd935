import { CreateBudgetLedger1764115200000 } from './migrations/1764115200000-create-budget-ledger.js';
import { CreateIdempotencyRecords1764201600000 } from './migrations/1764201600000-create-idempotency-records.js';
import { CountSettledInsertsAfterInsert1764806400000 } from './migrations/1764806400000-count-settled-inserts-after-insert.js';
import { InFlightMoneyAndReplicaLimits1765152000000 } from './migrations/1765152000000-in-flight-money-and-replica-limits.js';
import { STORE_TABLES } from './store-tables.js';

/**
 * @deprecated The library reads its tables with its own SQL and registers no entities; this is
 * empty, kept so a DataSource that still spreads it compiles. Entities would also be harmful:
 * `synchronize` or `migration:generate` would "correct" the tables (dropping the ledger's CHECK
 * constraints) to match them.
 */
export const RESILIENT_LLM_ENTITIES: never[] = [];

/** Add these to your own DataSource's `migrations` (and run them) when you pass it as `storage.dataSource`. */
export const RESILIENT_LLM_MIGRATIONS = [
  CreateBudgetLedger1764115200000,
  CreateIdempotencyRecords1764201600000,
  CountSettledInsertsAfterInsert1764806400000,
  InFlightMoneyAndReplicaLimits1765152000000,
];

export const RESILIENT_LLM_TABLES = STORE_TABLES.map((table) => table.name);
