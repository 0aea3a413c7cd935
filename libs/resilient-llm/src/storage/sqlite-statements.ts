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
  statement: PreparedStatement;
  parameters: unknown[];
  resolve: (result: StatementResult<unknown>) => void;
  reject: (error: unknown) => void;
}

/**
 * The library's statements on one better-sqlite3 connection, prepared once each.
 *
 * `grouped` is group commit: the writes asked for while the event loop is busy run together at
 * the end of the loop turn, in one transaction with one commit. Under concurrency most of a file
 * store's cost is its commits (WAL frames, checkpoints), not its statements. Each statement
 * stays atomic by itself (a trigger's RAISE(ABORT) undoes only its own statement), and each
 * caller hears back after the commit. A batch with fewer than two writes runs statement by
 * statement, so reads never wait for the write lock.
 */
export class SqliteStatements {
  private static readonly byConnection = new WeakMap<SqliteConnection, SqliteStatements>();
  private readonly prepared = new Map<string, PreparedStatement>();
  private queue: QueuedStatement[] = [];
  private scheduled = false;
  /** Set when a failed commit could not be rolled back: the connection is stuck in a transaction. */
  private broken?: unknown;

  private constructor(private readonly connection: SqliteConnection) {}

  /** One per connection, shared by every store that uses it. */
  static of(connection: SqliteConnection): SqliteStatements {
    let statements = SqliteStatements.byConnection.get(connection);
    if (!statements) {
      statements = new SqliteStatements(connection);
      SqliteStatements.byConnection.set(connection, statements);
    }
    return statements;
  }

  /** Runs the statement now, on its own (or in the transaction someone else has open). */
  async alone<T>(sql: string, parameters: unknown[]): Promise<StatementResult<T>> {
    return this.execute(this.statement(sql), parameters) as StatementResult<T>;
  }

  /** Runs the statement at the end of this loop turn, committed with the others asked for in it. */
  grouped<T>(sql: string, parameters: unknown[]): Promise<StatementResult<T>> {
    return new Promise<StatementResult<T>>((resolve, reject) => {
      if (this.broken) return reject(this.broken);
      this.queue.push({ statement: this.statement(sql), parameters, resolve: resolve as QueuedStatement['resolve'], reject });
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
    const writes = batch.filter((queued) => !queued.statement.reader).length;
    // Inside a transaction someone else opened on this connection, the statements join it, as they would alone.
    if (writes < 2 || this.connection.inTransaction) return batch.forEach((queued) => this.settleAlone(queued));
    try {
      this.statement('BEGIN IMMEDIATE').run();
    } catch (error) {
      // Another connection holds the write lock: the writes fail as they would have alone; WAL reads need no lock.
      return batch.forEach((queued) => (queued.statement.reader ? this.settleAlone(queued) : queued.reject(error)));
    }
    const outcomes: Array<{ result?: StatementResult<unknown>; error?: unknown }> = [];
    for (const queued of batch) {
      try {
        outcomes.push({ result: this.execute(queued.statement, queued.parameters) });
      } catch (error) {
        // Some errors (I/O, a full disk) roll the whole transaction back: then nothing of the batch stands.
        if (!this.connection.inTransaction) return this.rejectAll(batch, error);
        outcomes.push({ error });
      }
    }
    try {
      this.statement('COMMIT').run();
    } catch (error) {
      this.rollBackAfter(error);
      return this.rejectAll(batch, error);
    }
    batch.forEach((queued, index) => {
      const { result, error } = outcomes[index];
      if (result) queued.resolve(result);
      else queued.reject(error);
    });
  }

  private rollBackAfter(commitError: unknown): void {
    try {
      if (this.connection.inTransaction) this.statement('ROLLBACK').run();
    } catch {
      // Reported below as the commit's error.
    }
    // Still in the transaction: later statements would join it and never be committed.
    if (this.connection.inTransaction) this.broken = commitError;
  }

  private settleAlone(queued: QueuedStatement): void {
    try {
      queued.resolve(this.execute(queued.statement, queued.parameters));
    } catch (error) {
      queued.reject(error);
    }
  }

  private execute(statement: PreparedStatement, parameters: unknown[]): StatementResult<unknown> {
    if (statement.reader) return { records: statement.all(...parameters), affected: 0 };
    return { records: [], affected: statement.run(...parameters).changes };
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
