import { Logger } from '@nestjs/common';
import Database from 'better-sqlite3';
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteFileIdentity } from './sqlite-file-identity.js';
import { SYNC_LOCK_WAIT_MS, SqliteStatements } from './sqlite-statements.js';

const SCHEMA = `
  CREATE TABLE ledger (id TEXT PRIMARY KEY, amount INTEGER NOT NULL);
  CREATE TRIGGER ledger_limit BEFORE INSERT ON ledger
  WHEN NEW.amount > 100 BEGIN SELECT RAISE(ABORT, 'over_limit'); END;
`;

function open(file = ':memory:') {
  const db = new Database(file, { timeout: 50 });
  if (file !== ':memory:') db.pragma('journal_mode = WAL');
  db.exec(SCHEMA);
  // Reports whether the statement that calls it runs inside a transaction.
  db.function('in_transaction', () => (db.inTransaction ? 1 : 0));
  return db;
}

const insert = (statements: SqliteStatements, id: string, amount: number) =>
  statements.grouped('INSERT INTO ledger (id, amount) VALUES (?, ?)', [id, amount]);
const ids = (db: Database.Database) => db.prepare('SELECT id FROM ledger ORDER BY id').pluck().all();
const statusesOf = (outcomes: PromiseSettledResult<unknown>[]) => outcomes.map((outcome) => outcome.status);

describe('SqliteStatements', () => {
  describe('grouped', () => {
    it('runs the writes asked for in one loop turn in one transaction, each caller getting its own result', async () => {
      const db = open();
      db.exec("INSERT INTO ledger VALUES ('x', 1), ('y', 1)");
      const statements = SqliteStatements.of(db);
      const [inserted, updated, read] = await Promise.all([
        insert(statements, 'a', 5),
        statements.grouped('UPDATE ledger SET amount = amount + 1 WHERE id IN (?, ?)', ['x', 'y']),
        statements.grouped<{ total: number; inside: number }>('SELECT SUM(amount) AS total, in_transaction() AS inside FROM ledger', []),
      ]);
      expect([inserted.affected, updated.affected]).toEqual([1, 2]);
      // The read runs after both writes, inside the batch's transaction.
      expect(read.records).toEqual([{ total: 9, inside: 1 }]);
      expect(db.inTransaction).toBe(false);
    });

    it('runs a batch with fewer than two writes statement by statement, outside any transaction', async () => {
      const db = open();
      const statements = SqliteStatements.of(db);
      const [, read] = await Promise.all([insert(statements, 'a', 1), statements.grouped<{ inside: number }>('SELECT in_transaction() AS inside', [])]);
      expect(read.records).toEqual([{ inside: 0 }]);
      expect(ids(db)).toEqual(['a']);
    });

    it('undoes only the statement that failed: the rest of the batch is committed', async () => {
      const db = open();
      const statements = SqliteStatements.of(db);
      const outcomes = await Promise.allSettled([insert(statements, 'a', 1), insert(statements, 'b', 500), insert(statements, 'c', 3)]);
      expect(statusesOf(outcomes)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(String((outcomes[1] as PromiseRejectedResult).reason)).toContain('over_limit');
      expect(ids(db)).toEqual(['a', 'c']);
    });

    it('refuses the writes, and still answers the reads, while another connection holds the write lock', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sqlite-statements-'));
      const file = join(dir, 'ledger.sqlite');
      const db = open(file);
      const locker = new Database(file, { timeout: 50 });
      try {
        const statements = SqliteStatements.of(db);
        locker.exec('BEGIN IMMEDIATE');
        const outcomes = await Promise.allSettled([
          insert(statements, 'a', 1),
          statements.grouped<{ n: number }>('SELECT COUNT(*) AS n FROM ledger', []),
          insert(statements, 'b', 2),
        ]);
        expect(statusesOf(outcomes)).toEqual(['rejected', 'fulfilled', 'rejected']);
        expect(String((outcomes[0] as PromiseRejectedResult).reason)).toMatch(/locked|busy/i);
        expect((outcomes[1] as PromiseFulfilledResult<{ records: unknown[] }>).value.records).toEqual([{ n: 0 }]);
        locker.exec('ROLLBACK');
        await Promise.all([insert(statements, 'a', 1), insert(statements, 'b', 2)]);
        expect(ids(locker)).toEqual(['a', 'b']);
      } finally {
        locker.close();
        db.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('joins a transaction someone else opened on the connection instead of committing it', async () => {
      const db = open();
      const statements = SqliteStatements.of(db);
      db.exec('BEGIN');
      await Promise.all([insert(statements, 'a', 1), insert(statements, 'b', 2)]);
      expect(db.inTransaction).toBe(true);
      db.exec('ROLLBACK');
      expect(ids(db)).toEqual([]);
    });
  });

  describe('shared', () => {
    /** A read of one row's amount, numbered by the execution that answered it. */
    function counted() {
      const db = open();
      db.exec("INSERT INTO ledger VALUES ('a', 1), ('b', 2)");
      let executions = 0;
      db.function('execution', () => ++executions);
      const statements = SqliteStatements.of(db);
      const read = (id: string) => statements.shared<{ amount: number; execution: number }>('SELECT amount, execution() AS execution FROM ledger WHERE id = ?', [id]);
      return { statements, read, executions: () => executions };
    }

    it('runs the identical reads asked for in one loop turn once, and again once that batch has run', async () => {
      const { read, executions } = counted();
      const [first, second, other] = await Promise.all([read('a'), read('a'), read('b')]);
      expect([first.records, second.records, other.records]).toEqual([[{ amount: 1, execution: 1 }], [{ amount: 1, execution: 1 }], [{ amount: 2, execution: 2 }]]);
      expect((await read('a')).records).toEqual([{ amount: 1, execution: 3 }]);
      expect(executions()).toBe(3);
    });

    it('does not join a read to one queued before a write: it sees the write, as its own read would', async () => {
      const { statements, read } = counted();
      const [before, , after] = await Promise.all([read('a'), statements.grouped("UPDATE ledger SET amount = 5 WHERE id = 'a'", []), read('a')]);
      expect(before.records).toEqual([{ amount: 1, execution: 1 }]);
      expect(after.records).toEqual([{ amount: 5, execution: 2 }]);
    });
  });

  describe('grouped, waiting for the write lock', () => {
    let dir: string;
    let file: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'sqlite-statements-'));
      file = join(dir, 'ledger.sqlite');
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    /** The library's own connection: a busy timeout of a few milliseconds, the rest waited for on a timer. */
    function ownConnection(lockWaitMs: number, now?: () => number) {
      const db = open(file);
      db.pragma(`busy_timeout = ${SYNC_LOCK_WAIT_MS}`);
      return { db, statements: SqliteStatements.of(db, { lockWaitMs, now }) };
    }

    it('keeps the writes waiting, without blocking the event loop, until the lock is free', async () => {
      const { db, statements } = ownConnection(60_000);
      const locker = new Database(file, { timeout: 50 });
      try {
        locker.exec('BEGIN IMMEDIATE');
        const writes = Promise.all([insert(statements, 'a', 1), insert(statements, 'b', 2)]);
        // Timers run while the writes wait: the loop is free. Each try blocks it for SYNC_LOCK_WAIT_MS at most.
        let ticks = 0;
        await new Promise<void>((resolve) => {
          const ticker = setInterval(() => ++ticks === 5 && (clearInterval(ticker), resolve()), 1);
        });
        expect(ids(locker)).toEqual([]);
        locker.exec('COMMIT');
        await writes;
        expect(ids(locker)).toEqual(['a', 'b']);
      } finally {
        locker.close();
        db.close();
      }
    });

    it('fails a write whose lock wait is spent, with the busy error', async () => {
      let now = 0;
      const { db, statements } = ownConnection(100, () => now);
      const locker = new Database(file, { timeout: 50 });
      try {
        locker.exec('BEGIN IMMEDIATE');
        const write = insert(statements, 'a', 1);
        await new Promise((resolve) => setTimeout(resolve, 20));
        now = 100;
        await expect(write).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
        locker.exec('ROLLBACK');
        await insert(statements, 'b', 1);
        expect(ids(db)).toEqual(['b']);
      } finally {
        locker.close();
        db.close();
      }
    });

    it.each([
      ['removed', (path: string) => rmSync(path)],
      ['replaced', (path: string) => (new Database(`${path}.new`).close(), renameSync(`${path}.new`, path))],
    ])('refuses every statement, naming the path, once its file was %s (reads alone do not check)', async (change, act) => {
      const errors = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      const db = open(file);
      const statements = SqliteStatements.of(db, { lockWaitMs: 0, file: SqliteFileIdentity.of(file) });
      await insert(statements, 'a', 1);
      act(file);
      // A read of the old file still answers: only writes pay for the check.
      await expect(statements.grouped('SELECT COUNT(*) AS n FROM ledger', [])).resolves.toMatchObject({ records: [{ n: 1 }] });
      await expect(insert(statements, 'b', 2)).rejects.toThrow(`"${file}" was ${change}`);
      await expect(statements.grouped('SELECT COUNT(*) AS n FROM ledger', [])).rejects.toThrow(`"${file}" was ${change}`);
      expect(errors).toHaveBeenCalledOnce();
      errors.mockRestore();
      db.close();
    });
  });

  describe('alone', () => {
    it('runs the statement before the call returns, in the transaction someone else has open', async () => {
      const db = open();
      const statements = SqliteStatements.of(db);
      db.exec('BEGIN');
      const pending = statements.alone('INSERT INTO ledger (id, amount) VALUES (?, ?)', ['a', 1]);
      // Already written, synchronously: no loop turn passed.
      expect(ids(db)).toEqual(['a']);
      expect((await pending).affected).toBe(1);
      db.exec('ROLLBACK');
      expect(ids(db)).toEqual([]);
    });
  });

  it('keeps one set of statements per connection', () => {
    const db = open();
    expect(SqliteStatements.of(db)).toBe(SqliteStatements.of(db));
    expect(SqliteStatements.of(open())).not.toBe(SqliteStatements.of(db));
  });
});
