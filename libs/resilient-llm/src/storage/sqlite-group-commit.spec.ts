import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteGroupCommit } from './sqlite-group-commit.js';

const SCHEMA = `
  CREATE TABLE ledger (id TEXT PRIMARY KEY, amount INTEGER NOT NULL);
  CREATE TRIGGER ledger_limit BEFORE INSERT ON ledger
  WHEN NEW.amount > 100 BEGIN SELECT RAISE(ABORT, 'over_limit'); END;
`;

function open(file = ':memory:') {
  const db = new Database(file, { timeout: 50 });
  db.exec(SCHEMA);
  // Reports whether the statement that calls it runs inside a transaction.
  db.function('in_transaction', () => (db.inTransaction ? 1 : 0));
  return db;
}

const insert = (group: SqliteGroupCommit, id: string, amount: number) => group.run('INSERT INTO ledger (id, amount) VALUES (?, ?)', [id, amount]);
const ids = (db: Database.Database) => db.prepare('SELECT id FROM ledger ORDER BY id').pluck().all();

describe('SqliteGroupCommit', () => {
  it('runs statements asked for in one loop turn in one transaction, each caller getting its own result', async () => {
    const db = open();
    const group = SqliteGroupCommit.of(db);
    const [first, second, read] = await Promise.all([
      insert(group, 'a', 1),
      insert(group, 'b', 2),
      group.run<{ total: number; inside: number }>('SELECT SUM(amount) AS total, in_transaction() AS inside FROM ledger', []),
    ]);
    expect([first.affected, second.affected]).toEqual([1, 1]);
    // The read runs after the two inserts, inside the batch's transaction.
    expect(read.records).toEqual([{ total: 3, inside: 1 }]);
    expect(db.inTransaction).toBe(false);
  });

  it('runs a lone statement on its own, outside any transaction', async () => {
    const db = open();
    const { records } = await SqliteGroupCommit.of(db).run<{ inside: number }>('SELECT in_transaction() AS inside', []);
    expect(records).toEqual([{ inside: 0 }]);
  });

  it('undoes only the statement that failed: the rest of the batch is committed', async () => {
    const db = open();
    const group = SqliteGroupCommit.of(db);
    const outcomes = await Promise.allSettled([insert(group, 'a', 1), insert(group, 'b', 500), insert(group, 'c', 3)]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toContain('over_limit');
    expect(ids(db)).toEqual(['a', 'c']);
  });

  it('refuses the whole batch, and writes nothing, while another connection holds the database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'group-commit-'));
    const file = join(dir, 'ledger.sqlite');
    const db = open(file);
    const locker = new Database(file, { timeout: 50 });
    try {
      const group = SqliteGroupCommit.of(db);
      locker.exec('BEGIN EXCLUSIVE');
      const outcomes = await Promise.allSettled([insert(group, 'a', 1), insert(group, 'b', 2)]);
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
      expect(String((outcomes[0] as PromiseRejectedResult).reason)).toMatch(/locked|busy/i);
      locker.exec('ROLLBACK');
      expect(ids(db)).toEqual([]);
      await Promise.all([insert(group, 'a', 1), insert(group, 'b', 2)]);
      expect(ids(locker)).toEqual(['a', 'b']);
    } finally {
      locker.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("joins a transaction someone else opened on the connection instead of committing it", async () => {
    const db = open();
    const group = SqliteGroupCommit.of(db);
    db.exec('BEGIN');
    await Promise.all([insert(group, 'a', 1), insert(group, 'b', 2)]);
    expect(db.inTransaction).toBe(true);
    db.exec('ROLLBACK');
    expect(ids(db)).toEqual([]);
  });

  it('keeps one queue per connection', () => {
    const db = open();
    expect(SqliteGroupCommit.of(db)).toBe(SqliteGroupCommit.of(db));
    expect(SqliteGroupCommit.of(open())).not.toBe(SqliteGroupCommit.of(db));
  });
});
