import type { DataSource } from 'typeorm';

export interface StorageOptions {
  /**
   * Where budgets (and idempotency records) live when the module opens its own database:
   * an SQLite file path (created if missing), `':memory:'`, or a `postgres://` URL for several
   * replicas. Default `'./data/resilient-llm.sqlite'`.
   */
  database?: string;
  /**
   * Your app's own initialized DataSource instead. Its `entities` must include
   * `RESILIENT_LLM_ENTITIES` and its migrations `RESILIENT_LLM_MIGRATIONS`, already run.
   */
  dataSource?: DataSource;
  /** How long an SQLite write waits for another process's lock, in milliseconds. Default 5 000. */
  sqliteBusyTimeoutMs?: number;
}

export type ResolvedStorageOptions =
  | { kind: 'sqlite'; database: string; busyTimeoutMs: number }
  | { kind: 'postgres'; url: string }
  | { kind: 'external'; dataSource: DataSource };
