import { Logger } from '@nestjs/common';
import type { OwnConnectionSettings, PreparedStatement, SqliteConnection, StatementResult } from './sqlite-connection.interface.js';
import { isSqliteBusy } from '../errors/store-failure.js';

export type { OwnConnectionSettings, PreparedStatement, SqliteConnection, StatementResult };

/**
 * better-sqlite3 waits for a lock inside the event loop: its own connection gets this busy
 * timeout only, enough to ride out another process's commit; longer waits are retries below.
 */
export const SYNC_LOCK_WAIT_MS = 5;
const FIRST_LOCK_RETRY_MS = 5;
const MAX_LOCK_RETRY_MS = 50;

interface QueuedStatement {
  statement: PreparedStatement;
  parameters: unknown[];
  resolve: (result: StatementResult<unknown>) => void;
  reject: (error: unknown) => void;
  /** Until when (settings.now) it may wait for the write lock. */
  waitUntil: number;
}

type Locked = { queued: QueuedStatement; error: unknown };

/**
 * The library's statements on one better-sqlite3 connection, prepared once each.
 *
 * `grouped` is group commit: the writes asked for while the event loop is busy run together at
 * the end of the loop turn, in one transaction with one commit. Under concurrency most of a file
 * store's cost is its commits (WAL frames, checkpoints), not its statements. Each statement
 * stays atomic by itself (a trigger's RAISE(ABORT) undoes only its own statement), and each
 * caller hears back after the commit. A batch with fewer than two writes runs statement by
 * statement, so reads never wait for the write lock.
 *
 * While another connection holds the write lock, the writes wait in the queue and the batch is
 * tried again on a timer (5 ms, doubling to 50 ms), each statement until its `lockWaitMs` is
 * spent: the event loop is never blocked for longer than `SYNC_LOCK_WAIT_MS` per try.
 */
export class SqliteStatements {
  private static readonly byConnection = new WeakMap<SqliteConnection, SqliteStatements>();
  private static readonly logger = new Logger('ResilientLlmStorage');
  private readonly prepared = new Map<string, PreparedStatement>();
  /** Statements that write, `UPDATE ... RETURNING` included (better-sqlite3 calls those readers). */
  private readonly writers = new WeakSet<PreparedStatement>();
  private readonly now: () => number;
  private queue: QueuedStatement[] = [];
  /** The `shared` reads queued after the last write, by text and parameters: an identical read asked for now joins one. */
  private sharedReads = new Map<string, Map<string, Promise<StatementResult<unknown>>>>();
  private scheduled = false;
  private lockRetries = 0;
  /** Set when the connection cannot be used any more: a failed rollback, a file removed under it. */
  private broken?: unknown;

  private constructor(
    private readonly connection: SqliteConnection,
    private readonly settings: OwnConnectionSettings,
  ) {
    this.now = settings.now ?? (() => performance.now());
  }

  /** One per connection, shared by every store that uses it; `settings` count when it is first asked for. */
  static of(connection: SqliteConnection, settings: OwnConnectionSettings = { lockWaitMs: 0 }): SqliteStatements {
    let statements = SqliteStatements.byConnection.get(connection);
    if (!statements) {
      statements = new SqliteStatements(connection, settings);
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
      const waitUntil = this.now() + this.settings.lockWaitMs;
      const statement = this.statement(sql);
      // A read asked for after this write must see it: it cannot join one queued before.
      if (this.sharedReads.size > 0 && this.writer(statement)) this.sharedReads = new Map();
      this.queue.push({ statement, parameters, resolve: resolve as QueuedStatement['resolve'], reject, waitUntil });
      if (!this.scheduled) this.schedule(0);
    });
  }

  /**
   * A read like `grouped`, which shares one execution, and its records (not to be changed), with
   * the identical reads (same text, same string parameters) asked for after it and before any
   * write: each sees exactly what its own read would have seen. Under load, calls arriving
   * together check the same windows.
   */
  shared<T>(sql: string, parameters: readonly string[]): Promise<StatementResult<T>> {
    const key = parameters.join('\u0000');
    let reads = this.sharedReads.get(sql);
    let read = reads?.get(key);
    if (!read) {
      read = this.grouped<unknown>(sql, [...parameters]);
      if (!reads) this.sharedReads.set(sql, (reads = new Map()));
      reads.set(key, read);
    }
    return read as Promise<StatementResult<T>>;
  }

  private schedule(delayMs: number): void {
    this.scheduled = true;
    if (delayMs === 0) setImmediate(() => this.flush());
    // Kept referenced: a statement waiting for the lock is work in progress, and its wait is bounded.
    else setTimeout(() => this.flush(), delayMs);
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    // From here on a read asked for runs after this batch: it cannot join one of it.
    if (this.sharedReads.size > 0) this.sharedReads = new Map();
    const fault = this.broken ?? this.fileChange(batch);
    if (fault) {
      this.rejectAll(batch, fault);
      return;
    }
    const now = this.now();
    const waiting: QueuedStatement[] = [];
    for (const { queued, error } of this.runBatch(batch)) {
      if (now < queued.waitUntil) waiting.push(queued);
      else queued.reject(error); // its lock wait is spent
    }
    if (waiting.length === 0) {
      this.lockRetries = 0;
      return;
    }
    // Nothing was queued while the batch ran (it is synchronous): the waiting writes keep their order.
    this.queue = waiting;
    this.schedule(Math.min(MAX_LOCK_RETRY_MS, FIRST_LOCK_RETRY_MS * 2 ** Math.min(this.lockRetries++, 4)));
  }

  /** Runs a batch; returns the statements that found the write lock taken. */
  private runBatch(batch: QueuedStatement[]): Locked[] {
    const writes = batch.filter((queued) => this.writer(queued.statement)).length;
    // Inside a transaction someone else opened on this connection, the statements join it, as they would alone.
    if (writes < 2 || this.connection.inTransaction) return this.runAlone(batch);
    try {
      this.statement('BEGIN IMMEDIATE').run();
    } catch (error) {
      // Another connection holds the write lock: WAL reads need no lock, the writes wait for it (or fail).
      const locked = this.runAlone(batch.filter((queued) => !this.writer(queued.statement)));
      for (const queued of batch.filter((queued) => this.writer(queued.statement))) {
        if (isSqliteBusy(error)) locked.push({ queued, error });
        else queued.reject(error);
      }
      return locked;
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
    return [];
  }

  private runAlone(batch: QueuedStatement[]): Locked[] {
    const locked: Locked[] = [];
    for (const queued of batch) {
      try {
        queued.resolve(this.execute(queued.statement, queued.parameters));
      } catch (error) {
        if (isSqliteBusy(error)) locked.push({ queued, error });
        else queued.reject(error);
      }
    }
    return locked;
  }

  /** Checked before writing: a removed or replaced file breaks the connection for good, and is logged once. */
  private fileChange(batch: QueuedStatement[]): unknown {
    if (!this.settings.file || !batch.some((queued) => this.writer(queued.statement))) return undefined;
    const change = this.settings.file.change();
    if (!change) return undefined;
    this.broken = change;
    SqliteStatements.logger.error(change.message);
    return change;
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

  private execute(statement: PreparedStatement, parameters: unknown[]): StatementResult<unknown> {
    if (statement.reader) return { records: statement.all(...parameters), affected: 0 };
    return { records: [], affected: statement.run(...parameters).changes };
  }

  private writer(statement: PreparedStatement): boolean {
    return !statement.reader || this.writers.has(statement);
  }

  private statement(sql: string): PreparedStatement {
    let statement = this.prepared.get(sql);
    if (!statement) {
      statement = this.connection.prepare(sql);
      if (/^\s*(INSERT|UPDATE|DELETE|REPLACE)\b/i.test(sql)) this.writers.add(statement);
      this.prepared.set(sql, statement);
    }
    return statement;
  }

  private rejectAll(batch: QueuedStatement[], error: unknown): Locked[] {
    for (const queued of batch) queued.reject(error);
    return [];
  }
}
