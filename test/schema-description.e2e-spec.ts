import { DataSource } from 'typeorm';
import { RESILIENT_LLM_MIGRATIONS, RESILIENT_LLM_TABLES } from '../libs/resilient-llm/src/storage/resilient-llm.schema.js';
import { ResilientLlmStorage } from '../libs/resilient-llm/src/storage/resilient-llm-storage.js';
import { resolveStorageOptions } from '../libs/resilient-llm/src/storage/storage-options.validation.js';
import {
  BUDGET_RESERVATION_TABLE,
  BUDGET_WINDOW_TABLE,
  IDEMPOTENCY_RECORD_TABLE,
  STORE_TABLES,
} from '../libs/resilient-llm/src/storage/store-tables.js';
import { createTestSchema, skipWithoutPostgres } from './support/postgres.js';

/** The columns each table has in the database, as the migrations left it. */
async function migratedColumns(dataSource: DataSource): Promise<Map<string, string[]>> {
  const tables = new Map<string, string[]>();
  if (dataSource.options.type === 'postgres') {
    const rows: Array<{ table_name: string; column_name: string }> = await dataSource.query(
      `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`,
    );
    for (const row of rows) tables.set(row.table_name, [...(tables.get(row.table_name) ?? []), row.column_name]);
    return tables;
  }
  const names: Array<{ name: string }> = await dataSource.query(`SELECT name FROM sqlite_master WHERE type = 'table'`);
  for (const { name } of names) {
    const columns: Array<{ name: string }> = await dataSource.query(`PRAGMA table_info(${name})`);
    tables.set(name, columns.map((column) => column.name));
  }
  return tables;
}

/** What the stores' column lists name that the database lacks, and what it has that they do not list. */
async function driftFromMigrations(dataSource: DataSource) {
  const migrated = await migratedColumns(dataSource);
  return STORE_TABLES.map((table) => {
    const present = migrated.get(table.name);
    return {
      table: table.name,
      exists: present !== undefined,
      missing: table.columns.filter((column) => !present?.includes(column)),
      unlisted: (present ?? []).filter((column) => !table.columns.includes(column)),
    };
  });
}

const NO_DRIFT = STORE_TABLES.map((table) => ({ table: table.name, exists: true, missing: [], unlisted: [] }));

async function expectMigrationsDescribeTheStores(database: string): Promise<void> {
  const storage = await ResilientLlmStorage.open(resolveStorageOptions({ database }));
  try {
    // The library reads its tables with its own SQL: TypeORM holds no entity description of them.
    expect(storage.dataSource.entityMetadatas).toEqual([]);
    expect(await driftFromMigrations(storage.dataSource)).toEqual(NO_DRIFT);
  } finally {
    await storage.close();
  }
}

describe('the migrations as the one description of the store', () => {
  it('names the three tables of the column constants', () => {
    expect(RESILIENT_LLM_TABLES).toEqual([BUDGET_WINDOW_TABLE.name, BUDGET_RESERVATION_TABLE.name, IDEMPOTENCY_RECORD_TABLE.name]);
    for (const table of STORE_TABLES) expect(new Set(table.columns).size).toBe(table.columns.length);
  });

  it('creates on SQLite every column the stores name, and no other', async () => {
    await expectMigrationsDescribeTheStores(':memory:');
  });

  it('reports the columns a migration adds when that migration has not run', async () => {
    const dataSource = new DataSource({ type: 'better-sqlite3', database: ':memory:', migrations: RESILIENT_LLM_MIGRATIONS.slice(0, -1) });
    await dataSource.initialize();
    try {
      await dataSource.runMigrations();
      const drift = await driftFromMigrations(dataSource);
      expect(drift.find((entry) => entry.table === BUDGET_RESERVATION_TABLE.name)).toEqual({
        table: BUDGET_RESERVATION_TABLE.name,
        exists: true,
        missing: ['window_limits', 'in_flight_micro'],
        unlisted: [],
      });
      expect(drift.filter((entry) => entry.missing.length > 0)).toHaveLength(1);
    } finally {
      await dataSource.destroy();
    }
  });
});

describe.skipIf(await skipWithoutPostgres())('the migrations as the one description of the store, on PostgreSQL', () => {
  it('creates every column the stores name, and no other, in a schema of its own', async () => {
    const schema = await createTestSchema();
    try {
      await expectMigrationsDescribeTheStores(schema.url);
    } finally {
      await schema.drop();
    }
  });
});
