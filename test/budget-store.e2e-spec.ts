import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { ResilientLlmStorage } from '../libs/resilient-llm/src/storage/resilient-llm-storage.js';
import { TypeOrmBudgetStore } from '../libs/resilient-llm/src/storage/typeorm-budget.store.js';
import { resolveStorageOptions } from '../libs/resilient-llm/src/storage/storage-options.validation.js';
import { storeRefusedStatement } from '../libs/resilient-llm/src/errors/store-failure.js';
import { ledgerRowTotals } from './support/ledger.js';
import { createTestSchema, skipWithoutPostgres } from './support/postgres.js';

const WINDOWS = [
  { id: 'global|daily|2026-11-26', scope: 'global', kind: 'daily' as const, period: '2026-11-26', startsAt: 0, endsAt: 1, limitMicro: 100 },
  { id: 'key:a|daily|2026-11-26', scope: 'key:a', kind: 'daily' as const, period: '2026-11-26', startsAt: 0, endsAt: 1, limitMicro: 60 },
];

type Op =
  | { kind: 'reserve'; amount: number; both: boolean }
  | { kind: 'commit'; pick: number; fraction: number }
  | { kind: 'release'; pick: number; charge: number }
  | { kind: 'expire'; pick: number }
  | { kind: 'mark'; pick: number; fraction: number }
  | { kind: 'unconfirmed'; pick: number; landed: boolean; charge: number };

const operation: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('reserve' as const), amount: fc.integer({ min: 0, max: 45 }), both: fc.boolean() }),
  fc.record({ kind: fc.constant('commit' as const), pick: fc.nat(), fraction: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant('release' as const), pick: fc.nat(), charge: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ kind: fc.constant('expire' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('mark' as const), pick: fc.nat(), fraction: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant('unconfirmed' as const), pick: fc.nat(), landed: fc.boolean(), charge: fc.integer({ min: 0, max: 5 }) }),
);

/**
 * What only the SQL ledgers can show: window counters that always equal their rows, and a statement
 * cancelled while it waits on a lock. The cases every store must pass are in budget-store-contract.e2e-spec.ts.
 */
function storeContract(name: string, openStorage: () => Promise<{ storage: ResilientLlmStorage; close: () => Promise<void> }>) {
  describe(`TypeOrmBudgetStore on ${name}`, () => {
    let storage: ResilientLlmStorage;
    let store: TypeOrmBudgetStore;
    let close: () => Promise<void>;

    beforeAll(async () => {
      ({ storage, close } = await openStorage());
      store = new TypeOrmBudgetStore(storage.dataSource);
    });
    afterAll(() => close());
    beforeEach(async () => {
      await storage.dataSource.query('DELETE FROM resilient_llm_budget_reservation');
      await storage.dataSource.query('DELETE FROM resilient_llm_budget_window');
      await store.upsertWindows(WINDOWS);
    });

    const reservation = (amountMicro: number, windowIds = WINDOWS.map((w) => w.id), leaseExpiresAt = 1_000) => ({
      id: randomUUID(),
      windowIds,
      scope: 'key:a',
      model: 'gpt-4o-mini',
      amountMicro,
      createdAt: 0,
      leaseExpiresAt,
    });

    it('keeps counters equal to the ledger under random interleavings, and never admits past a limit', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(operation, { maxLength: 40 }), async (ops) => {
          await storage.dataSource.query('DELETE FROM resilient_llm_budget_reservation');
          await storage.dataSource.query('DELETE FROM resilient_llm_budget_window');
          await store.upsertWindows(WINDOWS);
          const open: Array<{ id: string; amount: number }> = [];
          for (const op of ops) {
            if (op.kind === 'reserve') {
              const held = reservation(op.amount, op.both ? WINDOWS.map((w) => w.id) : [WINDOWS[0].id], 10);
              if ((await store.reserve(held)) === true) {
                open.push({ id: held.id, amount: op.amount });
                for (const window of await store.readWindows(held.windowIds)) {
                  expect(window.spentMicro + window.reservedMicro).toBeLessThanOrEqual(window.limitMicro);
                }
              }
            } else if (op.kind === 'unconfirmed' && (!op.landed || open.length === 0)) {
              // A reservation whose insert never landed: settled anyway, and its late insert holds nothing.
              const lost = reservation(op.charge, [WINDOWS[0].id], 10);
              const settlement = { state: 'released' as const, actualMicro: op.charge, wasteMicro: 0, settledAt: 1 };
              await store.settleUnconfirmed(lost, settlement);
              await expect(store.reserve({ ...lost, amountMicro: 1 })).rejects.toThrow();
            } else if (op.kind === 'mark' && open.length > 0) {
              // Money in flight on a held row: charged if its lease ends, replaced if it is settled.
              const target = open[op.pick % open.length];
              expect(await store.renewLeases([{ id: target.id, inFlightMicro: Math.floor(target.amount * op.fraction) }], 10)).toEqual([target.id]);
            } else if (open.length > 0) {
              const [target] = open.splice(op.pick % open.length, 1);
              if (op.kind === 'commit') {
                const actualMicro = Math.floor(target.amount * op.fraction);
                await store.settle(target.id, { state: 'committed', actualMicro, wasteMicro: 0, settledAt: 1 });
              } else if (op.kind === 'release') {
                await store.settle(target.id, { state: 'released', actualMicro: op.charge, wasteMicro: op.charge, settledAt: 1 });
              } else if (op.kind === 'unconfirmed') {
                const landed = { ...reservation(target.amount, WINDOWS.map((w) => w.id), 10), id: target.id };
                const settlement = { state: 'committed' as const, actualMicro: op.charge, wasteMicro: op.charge, settledAt: 1 };
                await store.settleUnconfirmed(landed, settlement);
                await store.settleUnconfirmed(landed, settlement); // retried: counted once
              } else {
                await store.expireLeases(11);
                open.length = 0;
              }
            }
          }
          for (const window of await store.readWindows(WINDOWS.map((w) => w.id))) {
            expect({ spentMicro: window.spentMicro, reservedMicro: window.reservedMicro, wasteMicro: window.wasteMicro }).toEqual(
              await ledgerRowTotals(storage.dataSource, window.id),
            );
          }
        }),
        { numRuns: 40 },
      );
    });
  });
}

storeContract('SQLite (:memory:)', async () => {
  const storage = await ResilientLlmStorage.open(resolveStorageOptions({ database: ':memory:' }));
  return { storage, close: () => storage.close() };
});

describe.skipIf(await skipWithoutPostgres())('PostgreSQL', () => {
  it('cancels a statement that waits on a lock past storage.maxWaitMs: rolled back on the server, the pool still usable', async () => {
    const schema = await createTestSchema();
    const storage = await ResilientLlmStorage.open(resolveStorageOptions({ database: schema.url, maxWaitMs: 300 }));
    const blocker = new pg.Client({ connectionString: schema.url });
    try {
      const store = new TypeOrmBudgetStore(storage.dataSource);
      await store.upsertWindows(WINDOWS);
      const held = { id: randomUUID(), windowIds: [WINDOWS[0].id], scope: 'global', model: 'm', amountMicro: 1, createdAt: 0, leaseExpiresAt: 1 };
      await blocker.connect();
      await blocker.query('BEGIN');
      await blocker.query('UPDATE resilient_llm_budget_window SET limit_micro = limit_micro WHERE id = $1', [WINDOWS[0].id]);
      const refusal = await store.reserve(held).catch((error: unknown) => error);
      // statement_timeout: the server said no, so the reservation did nothing (no need to release it later).
      expect((refusal as { driverError?: { code?: string } }).driverError?.code).toBe('57014');
      expect(storeRefusedStatement(refusal)).toBe(true);
      await blocker.query('ROLLBACK');
      expect(await store.reserve(held)).toBe(true);
      expect((await store.readWindows([WINDOWS[0].id]))[0].reservedMicro).toBe(1);
    } finally {
      await blocker.end();
      await storage.close();
      await schema.drop();
    }
  });

  storeContract('PostgreSQL', async () => {
    const schema = await createTestSchema();
    const storage = await ResilientLlmStorage.open(resolveStorageOptions({ database: schema.url }));
    return {
      storage,
      close: async () => {
        await storage.close();
        await schema.drop();
      },
    };
  });
});
