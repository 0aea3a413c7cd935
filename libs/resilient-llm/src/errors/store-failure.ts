import { isStoreFileReplacedError } from './store-file-replaced.error.js';

interface DriverError {
  code?: unknown;
  /** Set by pg on an error the server sent (a `DatabaseError`), never on a client-side one. */
  severity?: unknown;
}

/** The driver's own error: TypeORM wraps it in a QueryFailedError as `driverError`. */
const driverErrorOf = (error: unknown): DriverError | undefined => {
  const wrapped = error as (DriverError & { driverError?: DriverError }) | null | undefined;
  return wrapped?.driverError ?? wrapped ?? undefined;
};

const codeOf = (error: unknown): string | undefined => {
  const code = driverErrorOf(error)?.code;
  return typeof code === 'string' ? code : undefined;
};

const fromPostgresServer = (error: unknown): boolean => {
  const driverError = driverErrorOf(error);
  return typeof driverError?.severity === 'string' && /^[0-9A-Z]{5}$/.test(String(driverError.code));
};

/** Another SQLite connection holds the lock the statement needs (`SQLITE_BUSY`, `SQLITE_BUSY_SNAPSHOT`, ...). */
export const isSqliteBusy = (error: unknown): boolean => codeOf(error)?.startsWith('SQLITE_BUSY') === true;

/**
 * True when the store answered that the statement did nothing: better-sqlite3 runs in this
 * process, so its errors are final; a PostgreSQL error with a SQLSTATE means the server rolled
 * the statement back. Timeouts and lost connections are not: the statement may still commit
 * after the client gave up on it.
 */
export function storeRefusedStatement(error: unknown): boolean {
  return isStoreFileReplacedError(error) || codeOf(error)?.startsWith('SQLITE_') === true || fromPostgresServer(error);
}
