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

/** Leases, money in flight and per-replica limits, on each store. */
function leaseContract(name: string, open: () => Promise<{ storage: ResilientLlmStorage; close: () => Promise<void> }>) {
  describe(`budget leases on ${name}`, () => {
    let storage: ResilientLlmStorage;
    let store: TypeOrmBudgetStore;
    let close: () => Promise<void>;

    beforeAll(async () => {
      ({ storage, close } = await open());
      store = new TypeOrmBudgetStore(storage.dataSource);
    });
    afterAll(() => close());
    beforeEach(async () => {
      await storage.dataSource.query('DELETE FROM resilient_llm_budget_reservation');
      await storage.dataSource.query('DELETE FROM resilient_llm_budget_window');
      await store.upsertWindows([GLOBAL, TENANT]);
    });

    const global = async () => (await store.readWindows([GLOBAL.id]))[0];

    it('an expired lease charges the money in flight as spent and waste, and gives the rest back', async () => {
      const held = reservation(50, { inFlightMicro: 10 });
      expect(await store.reserve(held)).toBe(true);
      expect(await store.renewLeases([{ id: held.id, inFlightMicro: 30 }], 100)).toEqual([held.id]);
      expect(await store.expireLeases(101)).toBe(1);
      expect(await global()).toMatchObject({ reservedMicro: 0, spentMicro: 30, wasteMicro: 30 });
    });

    it('a late settlement replaces what the expiry charged, once: nothing counts twice', async () => {
      const held = reservation(50, { inFlightMicro: 40 });
      await store.reserve(held);
      await store.expireLeases(101);
      expect(await store.settle(held.id, { state: 'committed', actualMicro: 25, wasteMicro: 0, settledAt: 200 })).toBe(true);
      expect(await store.settle(held.id, { state: 'committed', actualMicro: 25, wasteMicro: 0, settledAt: 201 })).toBe(false);
      await store.settleUnconfirmed(held, { state: 'committed', actualMicro: 25, wasteMicro: 0, settledAt: 202 });
      expect(await global()).toMatchObject({ reservedMicro: 0, spentMicro: 25, wasteMicro: 0 });
    });

    it('renewal moves a lease forward only, raises money in flight only, and leaves the windows alone', async () => {
      const held = reservation(50, { inFlightMicro: 20 });
      const gone = reservation(5, { leaseExpiresAt: 10 });
      await store.reserve(held);
      await store.reserve(gone);
      await store.expireLeases(11);
      const before = await global();
      // A replica whose clock is behind renews to 90: the lease stays at 100. A lower mark leaves 20.
      expect(await store.renewLeases([{ id: held.id, inFlightMicro: 5 }, { id: gone.id, inFlightMicro: 5 }], 90)).toEqual([held.id]);
      expect(await store.expireLeases(95)).toBe(0);
      expect(await store.expireLeases(101)).toBe(1);
      expect(await global()).toMatchObject({ reservedMicro: before.reservedMicro - 50, spentMicro: 20, wasteMicro: 20 });
    });

    it('a renewed lease does not expire', async () => {
      const held = reservation(50);
      await store.reserve(held);
      await store.renewLeases([{ id: held.id, inFlightMicro: 0 }], 1_000);
      expect(await store.expireLeases(500)).toBe(0);
      expect(await global()).toMatchObject({ reservedMicro: 50 });
    });

    it("checks each window against the reserving replica's limit, not the stored one, and names the windows that refused", async () => {
      // The stored limits are 100 and 60; this replica is configured with 20 for the tenant.
      expect(await store.reserve(reservation(15, { limitsMicro: [100, 20] }))).toBe(true);
      expect(await store.reserve(reservation(10, { limitsMicro: [100, 20] }))).toEqual({
        refused: [{ windowId: TENANT.id, spentMicro: 0, reservedMicro: 15, limitMicro: 20 }],
      });
      // Another replica, configured with more than is stored, may go past the stored limit.
      expect(await store.reserve(reservation(80, { limitsMicro: [1_000, 1_000] }))).toBe(true);
      expect(await store.reserve(reservation(1, { limitsMicro: [95, 95] }))).toEqual({
        refused: [
          { windowId: GLOBAL.id, spentMicro: 0, reservedMicro: 95, limitMicro: 95 },
          { windowId: TENANT.id, spentMicro: 0, reservedMicro: 95, limitMicro: 95 },
        ],
      });
      // A row with no limits (from a replica older than this check) meets the stored ones.
      expect(await store.reserve(reservation(1, { limitsMicro: undefined }))).toMatchObject({ refused: expect.any(Array) });
    });
  });
}

leaseContract('SQLite (:memory:)', async () => {
  const storage = await ResilientLlmStorage.open(resolveStorageOptions({ database: ':memory:' }));
  return { storage, close: () => storage.close() };
});

describe.skipIf(await skipWithoutPostgres())('PostgreSQL', () => {
  leaseContract('PostgreSQL', async () => {
    const schema = await createTestSchema();
    const storage = await ResilientLlmStorage.open(resolveStorageOptions({ database: schema.url }));
    return { storage, close: async () => (await storage.close(), await schema.drop()) };
  });
});

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
