import type { DataSource } from 'typeorm';
import { type SqliteConnection, SqliteGroupCommit, type StatementResult } from './sqlite-group-commit.js';

const DEADLOCK = '40P01';

/**
 * One SQL statement at a time, with the placeholders of the DataSource's dialect.
 *
 * On better-sqlite3 the statements run on the driver's own connection, prepared once each and
 * committed in groups (`SqliteGroupCommit`): TypeORM's query runner adds per-statement events
 * and bookkeeping that cost more than the ledger's statements, which run on every guarded
 * call. So on SQLite the library's statements bypass TypeORM's query logging and subscribers.
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
    return sqlite ? SqliteGroupCommit.of(sqlite).run<T>(sql, parameters) : this.runThroughTypeOrm<T>(sql, parameters);
  }

  private sqliteConnection(): SqliteConnection | undefined {
    if (this.dataSource.options.type !== 'better-sqlite3') return undefined;
    // A DataSource that is re-initialized gets a new connection, and with it a new group.
    return (this.dataSource.driver as { databaseConnection?: SqliteConnection }).databaseConnection;
  }

  private async runThroughTypeOrm<T>(sql: string, parameters: unknown[]): Promise<StatementResult<T>> {
    for (let attempt = 1; ; attempt++) {
      const runner = this.dataSource.createQueryRunner();
      try {
        const result = await runner.query(sql, parameters, true);
        return { records: (result.records ?? []) as T[], affected: result.affected ?? 0 };
      } catch (error) {
        // PostgreSQL picks one of two lock waiters as a deadlock victim; its statement did nothing.
        const code = (error as { driverError?: { code?: string } }).driverError?.code;
        if (code !== DEADLOCK || attempt >= 5) throw error;
      } finally {
        await runner.release();
      }
    }
  }
}
