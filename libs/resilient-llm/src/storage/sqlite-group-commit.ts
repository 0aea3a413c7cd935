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

interface QueuedStatement {
  sql: string;
  parameters: unknown[];
  resolve: (result: StatementResult<unknown>) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for one SQLite connection: statements asked for while the event loop is busy
 * run together, at the end of the loop turn, in one transaction with one commit. Each statement
 * stays atomic by itself (a trigger's RAISE(ABORT) undoes only its own statement), and its
 * caller hears back only after the commit, so nothing is reported that did not become durable.
 * Under concurrency most of a file store's cost is the commits (WAL frames, checkpoints),
 * not the statements; a lone statement runs on its own, as before.
 */
export class SqliteGroupCommit {
  private readonly prepared = new Map<string, PreparedStatement>();
  private queue: QueuedStatement[] = [];
  private scheduled = false;

  private constructor(private readonly connection: SqliteConnection) {}

  private static readonly byConnection = new WeakMap<SqliteConnection, SqliteGroupCommit>();

  /** One queue per connection, shared by every store that uses it. */
  static of(connection: SqliteConnection): SqliteGroupCommit {
    let group = SqliteGroupCommit.byConnection.get(connection);
    if (!group) {
      group = new SqliteGroupCommit(connection);
      SqliteGroupCommit.byConnection.set(connection, group);
    }
    return group;
  }

  run<T>(sql: string, parameters: unknown[]): Promise<StatementResult<T>> {
    return new Promise<StatementResult<T>>((resolve, reject) => {
      this.queue.push({ sql, parameters, resolve: resolve as QueuedStatement['resolve'], reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    // Inside a transaction someone else opened on this connection, the statements join it, as they would alone.
    const ownTransaction = batch.length > 1 && !this.connection.inTransaction;
    try {
      if (ownTransaction) this.statement('BEGIN IMMEDIATE').run();
    } catch (error) {
      for (const queued of batch) queued.reject(error);
      return;
    }
    const outcomes: Array<{ result?: StatementResult<unknown>; error?: unknown }> = [];
    for (const queued of batch) {
      try {
        outcomes.push({ result: this.execute(queued) });
      } catch (error) {
        // Some errors (I/O, a full disk) roll the whole transaction back: then nothing of the batch stands.
        if (ownTransaction && !this.connection.inTransaction) return this.rejectAll(batch, error);
        outcomes.push({ error });
      }
    }
    if (ownTransaction) {
      try {
        this.statement('COMMIT').run();
      } catch (error) {
        try {
          if (this.connection.inTransaction) this.statement('ROLLBACK').run();
        } catch {
          // The connection is gone or broken: the commit's own error is the one to report.
        }
        return this.rejectAll(batch, error);
      }
    }
    batch.forEach((queued, index) => {
      const { result, error } = outcomes[index];
      if (result) queued.resolve(result);
      else queued.reject(error);
    });
  }

  private execute(queued: QueuedStatement): StatementResult<unknown> {
    const statement = this.statement(queued.sql);
    if (statement.reader) return { records: statement.all(...queued.parameters), affected: 0 };
    return { records: [], affected: statement.run(...queued.parameters).changes };
  }

  private statement(sql: string): PreparedStatement {
    let statement = this.prepared.get(sql);
    if (!statement) {
      statement = this.connection.prepare(sql);
      this.prepared.set(sql, statement);
    }
    return statement;
  }

  private rejectAll(batch: QueuedStatement[], error: unknown): void {
    for (const queued of batch) queued.reject(error);
  }
}
