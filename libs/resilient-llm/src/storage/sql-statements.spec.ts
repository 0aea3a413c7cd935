import type Database from 'better-sqlite3';
import { DataSource } from 'typeorm';
import { SqlStatements, commitInGroups } from './sql-statements.js';

async function sqliteDataSource() {
  const dataSource = new DataSource({ type: 'better-sqlite3', database: ':memory:' });
  await dataSource.initialize();
  const connection = (dataSource.driver as unknown as { databaseConnection: Database.Database }).databaseConnection;
  connection.exec('CREATE TABLE ledger (id TEXT PRIMARY KEY)');
  // Reports whether the statement that calls it runs inside a transaction.
  connection.function('in_transaction', () => (connection.inTransaction ? 1 : 0));
  return { dataSource, connection };
}

/** Two writes and a read asked for in one loop turn; the read says whether it ran in a transaction. */
async function twoWritesAndARead(sql: SqlStatements) {
  const [, , read] = await Promise.all([
    sql.run('INSERT INTO ledger (id) VALUES (?)', ['a']),
    sql.run('INSERT INTO ledger (id) VALUES (?)', ['b']),
    sql.run<{ rows: number; inside: number }>('SELECT COUNT(*) AS rows, in_transaction() AS inside FROM ledger', []),
  ]);
  return read.records[0];
}

/** Two identical reads asked for in one loop turn: how many times the statement ran. */
async function twoIdenticalReads(dataSource: DataSource, connection: Database.Database) {
  let executions = 0;
  connection.function('execution', () => ++executions);
  const sql = new SqlStatements(dataSource);
  await Promise.all([sql.read('SELECT execution() AS n FROM ledger WHERE id = ?', ['a']), sql.read('SELECT execution() AS n FROM ledger WHERE id = ?', ['a'])]);
  return executions;
}

describe('SqlStatements on SQLite', () => {
  it('shares identical reads of one loop turn on a DataSource the library opened, not on the host app\'s', async () => {
    const own = await sqliteDataSource();
    commitInGroups(own.dataSource);
    own.connection.exec("INSERT INTO ledger VALUES ('a')");
    expect(await twoIdenticalReads(own.dataSource, own.connection)).toBe(1);
    const host = await sqliteDataSource();
    host.connection.exec("INSERT INTO ledger VALUES ('a')");
    expect(await twoIdenticalReads(host.dataSource, host.connection)).toBe(2);
    await Promise.all([own.dataSource.destroy(), host.dataSource.destroy()]);
  });

  it('commits the writes of one loop turn together on a DataSource the library opened', async () => {
    const { dataSource } = await sqliteDataSource();
    commitInGroups(dataSource);
    expect(await twoWritesAndARead(new SqlStatements(dataSource))).toEqual({ rows: 2, inside: 1 });
    await dataSource.destroy();
  });

  it("runs each statement at once, outside any transaction of its own, on the host app's DataSource", async () => {
    const { dataSource, connection } = await sqliteDataSource();
    expect(await twoWritesAndARead(new SqlStatements(dataSource))).toEqual({ rows: 2, inside: 0 });
    // A host transaction open on the shared connection takes the statements in, and its rollback undoes them.
    connection.exec('BEGIN');
    await new SqlStatements(dataSource).run('INSERT INTO ledger (id) VALUES (?)', ['c']);
    connection.exec('ROLLBACK');
    expect(connection.prepare('SELECT id FROM ledger ORDER BY id').pluck().all()).toEqual(['a', 'b']);
    await dataSource.destroy();
  });
});
