import type { DataSource, QueryRunner } from 'typeorm';
import { type OwnConnectionSettings, type SqliteConnection, SqliteStatements, type StatementResult } from './sqlite-statements.js';
import { storeRefusedStatement } from '../errors/store-failure.js';

const DEADLOCK = '40P01';

/** The DataSources the library opened itself (no host code shares their connection), with their settings. */
const ownDataSources = new WeakMap<DataSource, OwnConnectionSettings>();

/**
 * Lets the library's statements on this DataSource commit in groups (`SqliteStatements.grouped`),
 * wait for SQLite's write lock off the event loop, and check that its file is still in place.
 */
export function commitInGroups(dataSource: DataSource, settings: OwnConnectionSettings = { lockWaitMs: 0 }): void {
  ownDataSources.set(dataSource, settings);
}

/**
 * One SQL statement at a time, with the placeholders of the DataSource's dialect.
 *
 * On better-sqlite3 the statements run on the driver's own connection, prepared once each:
 * TypeORM's query runner adds per-statement events and bookkeeping that cost more than the
 * ledger's statements, which run on every guarded call. So on SQLite the library's statements
 * bypass TypeORM's query logging and subscribers. On a DataSource the library opened itself
 * they also commit in groups; on the host app's they run one by one, since the host's own
 * transactions share that connection.
 */
export class SqlStatements {
  readonly postgres: boolean;
  private readonly placeholders = new Map<string, string>();

  constructor(private readonly dataSource: DataSource) {
    this.postgres = dataSource.options.type === 'postgres';
  }

  param(index: number): string {
    return this.postgres ? `$${index}` : '?';
  }

  params(count: number, from = 1): string {
    const key = `${count}:${from}`;
    let list = this.placeholders.get(key);
    if (list === undefined) {
      list = Array.from({ length: count }, (_, offset) => this.param(from + offset)).join(', ');
      this.placeholders.set(key, list);
    }
    return list;
  }

  /** Runs one statement; returns its rows (reads) and how many rows it changed itself (writes). */
  async run<T = unknown>(sql: string, parameters: unknown[]): Promise<StatementResult<T>> {
    const sqlite = this.sqliteConnection();
    if (!sqlite) return this.runThroughTypeOrm<T>(sql, parameters);
    const own = ownDataSources.get(this.dataSource);
    const statements = SqliteStatements.of(sqlite, own);
    return own ? statements.grouped<T>(sql, parameters) : statements.alone<T>(sql, parameters);
  }

  /**
   * Runs a read whose records the caller does not change: on a DataSource the library opened,
   * the identical reads asked for in one loop turn share one execution (`SqliteStatements.shared`).
   */
  async read<T = unknown>(sql: string, parameters: readonly string[]): Promise<StatementResult<T>> {
    const sqlite = this.sqliteConnection();
    if (!sqlite || !ownDataSources.has(this.dataSource)) return this.run<T>(sql, [...parameters]);
    return SqliteStatements.of(sqlite, ownDataSources.get(this.dataSource)).shared<T>(sql, parameters);
  }

  private sqliteConnection(): SqliteConnection | undefined {
    if (this.dataSource.options.type !== 'better-sqlite3') return undefined;
    // A DataSource that is re-initialized gets a new connection, and with it new prepared statements.
    return (this.dataSource.driver as { databaseConnection?: SqliteConnection }).databaseConnection;
  }

  private async runThroughTypeOrm<T>(sql: string, parameters: unknown[]): Promise<StatementResult<T>> {
    for (let attempt = 1; ; attempt++) {
      const runner = this.dataSource.createQueryRunner();
      let unusable: unknown;
      try {
        const result = await runner.query(sql, parameters, true);
        return { records: (result.records ?? []) as T[], affected: result.affected ?? 0 };
      } catch (error) {
        // A timeout or a lost connection leaves the connection busy with a statement nobody awaits.
        if (!storeRefusedStatement(error)) unusable = error;
        // PostgreSQL picks one of two lock waiters as a deadlock victim; its statement did nothing.
        const code = (error as { driverError?: { code?: string } }).driverError?.code;
        if (code !== DEADLOCK || attempt >= 5) throw error;
      } finally {
        await release(runner, unusable);
      }
    }
  }
}

/** Gives the connection back to the pool, or has the pool close it (pg-pool does when released with an error). */
function release(runner: QueryRunner, unusable: unknown): Promise<void> {
  const releaseWith = (runner as { releasePostgresConnection?: (error?: unknown) => Promise<void> }).releasePostgresConnection;
  return unusable !== undefined && releaseWith ? releaseWith.call(runner, unusable) : runner.release();
}
