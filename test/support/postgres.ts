import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL the multi-replica tests use: this machine's, unless RESILIENT_LLM_TEST_PG_URL says otherwise. */
export const POSTGRES_URL = process.env.RESILIENT_LLM_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function reachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Whether to skip the PostgreSQL tests: only when none is reachable and CI is not set. In CI
 * an unreachable server is a failure (the tests run and fail), never a silent skip.
 */
export async function skipWithoutPostgres(): Promise<boolean> {
  if (await reachable()) return false;
  if (process.env.CI) return false;
  console.warn(`NOTICE: no PostgreSQL at ${POSTGRES_URL}; skipping the PostgreSQL tests (they run in CI).`);
  return true;
}

/** A schema of its own for one test file, so that files running in parallel never share tables. */
export async function createTestSchema(): Promise<{ url: string; drop: () => Promise<void> }> {
  const schema = `rl_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const separator = POSTGRES_URL.includes('?') ? '&' : '?';
  return {
    url: `${POSTGRES_URL}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    drop: async () => {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
      await client.end();
    },
  };
}
