import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { RESILIENT_LLM_MIGRATIONS, RESILIENT_LLM_TABLES } from './resilient-llm.schema.js';
import type { ResolvedStorageOptions } from './storage-options.interface.js';
import { commitInGroups } from './sql-statements.js';
import { SqliteFileIdentity } from './sqlite-file-identity.js';
import { driverOptions, migrate, retryWhileLocked } from './storage-opening.js';
import { describeStorage } from './storage-options.validation.js';

const MIGRATIONS_TABLE = 'resilient_llm_migrations';

/**
 * The database the library keeps its ledger in: a DataSource it opens (and closes) itself,
 * with its own migrations table, or the host app's, which it only checks.
 */
export class ResilientLlmStorage {
  private static readonly logger = new Logger('ResilientLlmStorage');

  private constructor(
    readonly dataSource: DataSource,
    private readonly owned: boolean,
  ) {}

  static async open(storage: ResolvedStorageOptions): Promise<ResilientLlmStorage> {
    if (storage.kind === 'external') {
      await ResilientLlmStorage.assertSchema(storage.dataSource);
      return new ResilientLlmStorage(storage.dataSource, false);
    }
    const dataSource = new DataSource({
      ...driverOptions(storage),
      migrations: RESILIENT_LLM_MIGRATIONS,
      migrationsTableName: MIGRATIONS_TABLE,
      synchronize: false,
      logging: false,
    });
    const sqliteFile = storage.kind === 'sqlite' && storage.database !== ':memory:' ? storage.database : undefined;
    const lockWaitMs = storage.kind === 'sqlite' ? storage.busyTimeoutMs : 0;
    try {
      await dataSource.initialize();
      const connection = (dataSource.driver as { databaseConnection?: { pragma(source: string): unknown } }).databaseConnection;
      // Another process may hold the file's lock: wait for it off the event loop, as statements do.
      await retryWhileLocked(lockWaitMs, async () => {
        if (sqliteFile) connection?.pragma('journal_mode = WAL');
        await migrate(dataSource);
      });
    } catch (error) {
      if (dataSource.isInitialized) await dataSource.destroy();
      throw new Error(
        `resilient-llm: cannot open the store at ${describeStorage(storage)} ("storage.database"): ${(error as Error).message}`,
        { cause: error },
      );
    }
    commitInGroups(dataSource, { lockWaitMs, file: sqliteFile ? SqliteFileIdentity.of(sqliteFile) : undefined });
    ResilientLlmStorage.logger.log(`Store: ${describeStorage(storage)}`);
    return new ResilientLlmStorage(dataSource, true);
  }

  private static async assertSchema(dataSource: DataSource): Promise<void> {
    if (!dataSource.isInitialized) {
      throw new Error('resilient-llm: "storage.dataSource" must be initialized before the module starts');
    }
    const queryRunner = dataSource.createQueryRunner();
    try {
      for (const table of RESILIENT_LLM_TABLES) {
        if (!(await queryRunner.hasTable(table))) {
          throw new Error(
            `resilient-llm: table "${table}" is missing from "storage.dataSource". Add RESILIENT_LLM_MIGRATIONS ` +
              `to its migrations, then run the migrations.`,
          );
        }
      }
    } finally {
      await queryRunner.release();
    }
  }

  /** Closes the DataSource if the library opened it; the host app's is left alone. */
  async close(): Promise<void> {
    if (this.owned && this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
