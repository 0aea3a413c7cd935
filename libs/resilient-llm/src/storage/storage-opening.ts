import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource, QueryRunner } from 'typeorm';
import { SYNC_LOCK_WAIT_MS } from './sqlite-statements.js';
import { isSqliteBusy } from '../errors/store-failure.js';
import type { ResolvedStorageOptions } from './storage-options.interface.js';

// Any constant: replicas starting together take turns running the migrations.
const MIGRATION_LOCK_KEY = 7_211_004_113;
const MIGRATION_LOCK_WAIT_MS = 120_000;
const MIGRATION_LOCK_POLL_MS = 100;
const FIRST_LOCK_RETRY_MS = 5;
const MAX_LOCK_RETRY_MS = 50;
// The server's cancel must reach the client before the client's own timeout gives up on it.
const SERVER_SHARE_OF_WAIT = 0.8;

type OwnedStorage = Exclude<ResolvedStorageOptions, { kind: 'external' }>;

/** The driver part of the DataSource the module opens: every wait on the database has an end. */
export function driverOptions(storage: OwnedStorage) {
  if (storage.kind === 'postgres') {
    return {
      type: 'postgres' as const,
      url: storage.url,
      // pg-pool's connectionTimeoutMillis: a new connection, or a free slot in a full pool.
      connectTimeoutMS: storage.maxWaitMs,
      extra: {
        // On the server, and first: a statement that waits for locks (or just runs) is cancelled and
        // rolled back, a clean answer on a connection that stays usable.
        statement_timeout: Math.max(1, Math.floor(storage.maxWaitMs * SERVER_SHARE_OF_WAIT)),
        // In the client: a server that stopped answering (paused, partitioned) cannot hold a caller.
        query_timeout: storage.maxWaitMs,
      },
    };
  }
  return { type: 'better-sqlite3' as const, database: storage.database, timeout: SYNC_LOCK_WAIT_MS };
}

/**
 * Runs `step` again while SQLite says another connection holds the lock, on a timer, for at
 * most `waitMs`: opening the store never blocks the event loop for a lock either.
 */
export async function retryWhileLocked(waitMs: number, step: () => Promise<void>): Promise<void> {
  const until = performance.now() + waitMs;
  for (let delayMs = FIRST_LOCK_RETRY_MS; ; delayMs = Math.min(MAX_LOCK_RETRY_MS, delayMs * 2)) {
    try {
      return await step();
    } catch (error) {
      if (!(isSqliteBusy(error) || createdMeanwhile(error)) || performance.now() + delayMs > until) throw error;
      await sleep(delayMs);
    }
  }
}

/**
 * Several processes opening a new SQLite file at once: TypeORM checks for its migrations table,
 * another process creates it, and the CREATE fails. The next try finds it there.
 */
const createdMeanwhile = (error: unknown): boolean => /already exists/i.test(String((error as Error)?.message ?? ''));

/** The library's migrations, one replica at a time on PostgreSQL. */
export async function migrate(dataSource: DataSource): Promise<void> {
  if (dataSource.options.type !== 'postgres') {
    await dataSource.runMigrations({ transaction: 'all' });
    return;
  }
  const lock = dataSource.createQueryRunner();
  try {
    await takeMigrationLock(lock);
    await dataSource.runMigrations({ transaction: 'all' });
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.release();
  }
}

// Polled: one statement waiting for another replica's migrations would meet statement_timeout.
async function takeMigrationLock(lock: QueryRunner): Promise<void> {
  const until = performance.now() + MIGRATION_LOCK_WAIT_MS;
  while (!(await lock.query('SELECT pg_try_advisory_lock($1) AS taken', [MIGRATION_LOCK_KEY]))[0].taken) {
    if (performance.now() > until) throw new Error(`another replica has held the migration lock for ${MIGRATION_LOCK_WAIT_MS / 1000} s`);
    await sleep(MIGRATION_LOCK_POLL_MS);
  }
}
