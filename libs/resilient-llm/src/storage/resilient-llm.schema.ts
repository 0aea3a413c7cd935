import { BudgetReservationEntity } from './entities/budget-reservation.entity.js';
import { BudgetWindowEntity } from './entities/budget-window.entity.js';
import { IdempotencyRecordEntity } from './entities/idempotency-record.entity.js';
import { CreateBudgetLedger1764115200000 } from './migrations/1764115200000-create-budget-ledger.js';
import { CreateIdempotencyRecords1764201600000 } from './migrations/1764201600000-create-idempotency-records.js';
import { CountSettledInsertsAfterInsert1764806400000 } from './migrations/1764806400000-count-settled-inserts-after-insert.js';
import { InFlightMoneyAndReplicaLimits1765152000000 } from './migrations/1765152000000-in-flight-money-and-replica-limits.js';

/** Add these to your own DataSource's `entities` when you pass it as `storage.dataSource`. */
export const RESILIENT_LLM_ENTITIES = [BudgetWindowEntity, BudgetReservationEntity, IdempotencyRecordEntity];

/** Add these to your own DataSource's `migrations` (and run them) when you pass it as `storage.dataSource`. */
export const RESILIENT_LLM_MIGRATIONS = [
  CreateBudgetLedger1764115200000,
  CreateIdempotencyRecords1764201600000,
  CountSettledInsertsAfterInsert1764806400000,
  InFlightMoneyAndReplicaLimits1765152000000,
];

export const RESILIENT_LLM_TABLES = ['resilient_llm_budget_window', 'resilient_llm_budget_reservation', 'resilient_llm_idempotency_record'];
