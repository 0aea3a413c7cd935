import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import type { NewReservation } from '../libs/resilient-llm/src/budget/budget-store.interface.js';
import { RESILIENT_LLM_MIGRATIONS } from '../libs/resilient-llm/src/storage/resilient-llm.schema.js';
import { ResilientLlmStorage } from '../libs/resilient-llm/src/storage/resilient-llm-storage.js';
import { resolveStorageOptions } from '../libs/resilient-llm/src/storage/storage-options.validation.js';
import { TypeOrmBudgetStore } from '../libs/resilient-llm/src/storage/typeorm-budget.store.js';
import { createTestSchema, skipWithoutPostgres } from './support/postgres.js';

const GLOBAL = { id: 'global|daily|2026-11-26', scope: 'global', kind: 'daily' as const, period: '2026-11-26', startsAt: 0, endsAt: 1, limitMicro: 100 };
const TENANT = { ...GLOBAL, id: 'key:a|daily|2026-11-26', scope: 'key:a', limitMicro: 60 };

const reservation = (amountMicro: number, extra: Partial<NewReservation> = {}): NewReservation => ({
  id: randomUUID(),
  windowIds: [GLOBAL.id, TENANT.id],
  limitsMicro: [GLOBAL.limitMicro, TENANT.limitMicro],
  scope: 'key:a',
  model: 'm',
  amountMicro,
  createdAt: 0,
  leaseExpiresAt: 100,
  ...extra,
});

// The lease cases every store must pass are in budget-store-contract.e2e-spec.ts: this file keeps
// what only the SQL ledgers have, a migration that must keep the rows it finds.
const LEDGERS = [
  {
    name: 'SQLite file',
    open: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'resilient-llm-migrate-'));
      const database = join(dir, 'ledger.sqlite');
      return { database, driver: { type: 'better-sqlite3' as const, database }, drop: () => rm(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'PostgreSQL',
    open: async () => {
      const schema = await createTestSchema();
      return { database: schema.url, driver: { type: 'postgres' as const, url: schema.url }, drop: schema.drop };
    },
  },
];

describe.each(LEDGERS)('the migration on a ledger that already has rows ($name)', ({ name, open }) => {
  it('keeps every row: an old held row expires with nothing in flight, and new reservations meet the limits', async (context) => {
    if (name === 'PostgreSQL' && (await skipWithoutPostgres())) return context.skip();
    const ledger = await open();
    const p = (index: number) => (name === 'PostgreSQL' ? `$${index}` : '?');
    try {
      const before = new DataSource({ ...ledger.driver, entities: [], migrations: RESILIENT_LLM_MIGRATIONS.slice(0, -1), migrationsTableName: 'resilient_llm_migrations' });
      await before.initialize();
      await before.runMigrations();
      await before.query(`INSERT INTO resilient_llm_budget_window (id, scope, kind, period, starts_at, ends_at, limit_micro) VALUES (${p(1)}, 'global', 'daily', 'p', 0, 1, 100)`, [GLOBAL.id]);
      await before.query(
        `INSERT INTO resilient_llm_budget_reservation (id, window_ids, scope, model, amount_micro, state, created_at, lease_expires_at) VALUES ('old', ${p(1)}, 'global', 'm', 40, 'held', 0, 10)`,
        [JSON.stringify([GLOBAL.id])],
      );
      await before.destroy();

      const storage = await ResilientLlmStorage.open(resolveStorageOptions({ database: ledger.database }));
      try {
        const store = new TypeOrmBudgetStore(storage.dataSource);
        expect(await store.readWindows([GLOBAL.id])).toMatchObject([{ reservedMicro: 40 }]);
        expect(await store.reserve(reservation(61, { windowIds: [GLOBAL.id], limitsMicro: [100] }))).toMatchObject({ refused: [{ reservedMicro: 40 }] });
        expect(await store.expireLeases(11)).toBe(1);
        expect(await store.readWindows([GLOBAL.id])).toMatchObject([{ reservedMicro: 0, spentMicro: 0 }]);
        expect(await store.reserve(reservation(100, { windowIds: [GLOBAL.id], limitsMicro: [100] }))).toBe(true);
      } finally {
        await storage.close();
      }
    } finally {
      await ledger.drop();
    }
  });
});
