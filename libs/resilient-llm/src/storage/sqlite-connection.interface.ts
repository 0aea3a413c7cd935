import type { SqliteFileIdentity } from './sqlite-file-identity.js';

/** The part of a better-sqlite3 prepared statement the library uses. */
export interface PreparedStatement {
  readonly reader: boolean;
  all(...parameters: unknown[]): unknown[];
  run(...parameters: unknown[]): { changes: number };
}

/** The part of a better-sqlite3 connection the library uses. */
export interface SqliteConnection {
  readonly inTransaction: boolean;
  prepare(sql: string): PreparedStatement;
}

export interface StatementResult<T> {
  records: T[];
  affected: number;
}

/** How the library runs statements on a connection it opened itself. */
export interface OwnConnectionSettings {
  /** How long a statement waits for another connection's write lock, retrying off the event loop; 0 fails it at once. */
  lockWaitMs: number;
  /** The file the connection opened, checked before every batch with a write. */
  file?: SqliteFileIdentity;
  /** Monotonic milliseconds, for the lock waits. */
  now?: () => number;
}
