import type { DataSource } from 'typeorm';

export interface StorageOptions {
  /**
   * Where budgets (and idempotency records) live when the module opens its own database:
   * an SQLite file path (created if missing), `':memory:'`, or a `postgres://` URL for several
   * replicas. Default `'./data/resilient-llm.sqlite'`.
   */
  database?: string;
  /**
   * Your app's own initialized DataSource instead. Its migrations must include
   * `RESILIENT_LLM_MIGRATIONS`, already run (the library needs no entities).
   */
  dataSource?: DataSource;
  /**
   * The longest a call waits for the store, in milliseconds (less when the call's deadline is
   * nearer): past it the call is refused with 503 (or admitted, with `budget.onStoreError:
   * 'fail-open'`). On the database the module opens it is also PostgreSQL's connect timeout,
   * `statement_timeout` and client-side query timeout. From 1 to 60 000; default 2 000.
   */
  maxWaitMs?: number;
  /**
   * How long an SQLite statement waits for another connection's write lock, in milliseconds;
   * the wait is retries on a timer, never a block of the event loop. From 0 to `maxWaitMs`;
   * default `maxWaitMs`.
   */
  sqliteBusyTimeoutMs?: number;
}

export type ResolvedStorageOptions =
  | { kind: 'sqlite'; database: string; busyTimeoutMs: number; maxWaitMs: number }
  | { kind: 'postgres'; url: string; maxWaitMs: number }
  | { kind: 'external'; dataSource: DataSource; maxWaitMs: number };

/** The storage holder's slice of the resolved module options (token `RESILIENT_LLM_STORAGE_SETTINGS`). */
export interface StorageSettings {
  readonly storage: ResolvedStorageOptions;
}
