import { StoreFileReplacedError } from './store-file-replaced.error.js';
import { StoreWaitExceededError } from './store-wait-exceeded.error.js';
import { isSqliteBusy, storeRefusedStatement } from './store-failure.js';

const coded = (code: string) => Object.assign(new Error(code), { code });
const throughTypeOrm = (driverError: Error) => Object.assign(new Error('query failed'), { driverError });

describe('store failures', () => {
  it('tells a lock held by another SQLite connection', () => {
    expect(isSqliteBusy(coded('SQLITE_BUSY'))).toBe(true);
    expect(isSqliteBusy(throughTypeOrm(coded('SQLITE_BUSY_SNAPSHOT')))).toBe(true);
    expect(isSqliteBusy(coded('SQLITE_CONSTRAINT_PRIMARYKEY'))).toBe(false);
    expect(isSqliteBusy(undefined)).toBe(false);
  });

  it('knows a statement did nothing when SQLite or the PostgreSQL server said so', () => {
    expect(storeRefusedStatement(coded('SQLITE_BUSY'))).toBe(true);
    const cancelled = Object.assign(coded('57014'), { severity: 'ERROR' }); // statement_timeout: rolled back
    expect(storeRefusedStatement(throughTypeOrm(cancelled))).toBe(true);
    expect(storeRefusedStatement(new StoreFileReplacedError('/data/ledger.sqlite', 'removed'))).toBe(true);
  });

  it('does not know when the client gave up: the statement may still commit', () => {
    expect(storeRefusedStatement(new StoreWaitExceededError(500))).toBe(false);
    expect(storeRefusedStatement(throughTypeOrm(new Error('Query read timeout')))).toBe(false);
    expect(storeRefusedStatement(new Error('timeout exceeded when trying to connect'))).toBe(false);
    expect(storeRefusedStatement(coded('ECONNRESET'))).toBe(false);
    expect(storeRefusedStatement(throughTypeOrm(coded('EPIPE')))).toBe(false);
  });
});
