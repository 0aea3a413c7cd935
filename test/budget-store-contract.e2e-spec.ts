import { InMemoryBudgetStore } from '@resilient-llm/nestjs/testing';
import { randomUUID } from 'node:crypto';
import type { BudgetStore, NewReservation, Settlement } from '../libs/resilient-llm/src/budget/budget-store.interface.js';
import { ResilientLlmStorage } from '../libs/resilient-llm/src/storage/resilient-llm-storage.js';
import { resolveStorageOptions } from '../libs/resilient-llm/src/storage/storage-options.validation.js';
import { TypeOrmBudgetStore } from '../libs/resilient-llm/src/storage/typeorm-budget.store.js';
import { ledgerRowTotals } from './support/ledger.js';
import { createTestSchema, skipWithoutPostgres } from './support/postgres.js';

type Totals = { reservedMicro: number; spentMicro: number; wasteMicro: number };

interface StoreUnderTest {
  store: BudgetStore;
  /** Empties the store: `expireLeases` reaches every row, so no case may see another's. */
  reset(): Promise<void>;
  /** What the rows of a window add up to, where the store keeps rows to add up. */
  rowTotals?(windowId: string): Promise<Totals>;
  close(): Promise<void>;
}

async function typeOrmStore(database: string, dropSchema?: () => Promise<void>): Promise<StoreUnderTest> {
  const storage = await ResilientLlmStorage.open(resolveStorageOptions({ database }));
  return {
    store: new TypeOrmBudgetStore(storage.dataSource),
    reset: async () => {
      await storage.dataSource.query('DELETE FROM resilient_llm_budget_reservation');
      await storage.dataSource.query('DELETE FROM resilient_llm_budget_window');
    },
    rowTotals: (windowId) => ledgerRowTotals(storage.dataSource, windowId),
    close: async () => {
      await storage.close();
      await dropSchema?.();
    },
  };
}

function inMemoryStore(): StoreUnderTest {
  const subject: StoreUnderTest = { store: new InMemoryBudgetStore(), reset: async () => void (subject.store = new InMemoryBudgetStore()), close: async () => undefined };
  return subject;
}

const STORES: Array<[string, () => Promise<StoreUnderTest | undefined>]> = [
  ['the in-memory fake', async () => inMemoryStore()],
  ['SQLite', () => typeOrmStore(':memory:')],
  ['PostgreSQL', async () => ((await skipWithoutPostgres()) ? undefined : createTestSchema().then((schema) => typeOrmStore(schema.url, schema.drop)))],
];

// Ids whose order is the same as the windows' order: PostgreSQL names refusing windows in id order.
const GLOBAL = { id: 'global|daily|2026-11-26', scope: 'global', kind: 'daily' as const, period: '2026-11-26', startsAt: 0, endsAt: 1, limitMicro: 100 };
const TENANT = { ...GLOBAL, id: 'key:a|daily|2026-11-26', scope: 'key:a', limitMicro: 60 };
const BOTH = [GLOBAL.id, TENANT.id];

/** A row checked against the stored limits (no `limitsMicro`) unless `extra` gives some. */
const reservation = (amountMicro: number, extra: Partial<NewReservation> = {}): NewReservation => ({
  id: randomUUID(),
  windowIds: BOTH,
  scope: 'key:a',
  model: 'gpt-4o-mini',
  amountMicro,
  createdAt: 0,
  leaseExpiresAt: 100,
  ...extra,
});
const committed = (actualMicro: number, wasteMicro = 0, settledAt = 200): Settlement => ({ state: 'committed', actualMicro, wasteMicro, settledAt });

describe.each(STORES)('the budget store contract: %s', (_, open) => {
  let subject: StoreUnderTest | undefined;

  beforeAll(async () => {
    subject = await open();
  });
  afterAll(async () => {
    await subject?.close();
  });
  beforeEach(async (context) => {
    if (!subject) return context.skip();
    await subject.reset();
    await subject.store.upsertWindows([GLOBAL, TENANT]);
  });

  const store = () => subject!.store;
  const window = async (id = GLOBAL.id) => (await store().readWindows([id]))[0];

  it('reserves in every window or in none, and names the window that refused with the figures it saw', async () => {
    expect(await store().reserve(reservation(50))).toBe(true);
    // 11 more fits the global window (61 of 100) but not the tenant's (61 of 60): neither moves.
    expect(await store().reserve(reservation(11))).toEqual({ refused: [{ windowId: TENANT.id, spentMicro: 0, reservedMicro: 50, limitMicro: 60 }] });
    const [global, tenant] = (await store().readWindows(BOTH)).sort((a, b) => a.id.localeCompare(b.id));
    expect({ global: global.reservedMicro, tenant: tenant.reservedMicro }).toEqual({ global: 50, tenant: 50 });
    expect(await store().reserve(reservation(45, { windowIds: [GLOBAL.id] }))).toBe(true);
    // Global is at 95 of 100 now: 10 no longer fits, 5 does (exactly at the limit).
    expect(await store().reserve(reservation(10))).toEqual({ refused: [{ windowId: GLOBAL.id, spentMicro: 0, reservedMicro: 95, limitMicro: 100 }] });
    expect(await store().reserve(reservation(5))).toBe(true);
    expect((await store().readWindows(BOTH)).map((w) => w.reservedMicro).sort()).toEqual([100, 55]);
  });

  it('refuses a reservation naming a window that does not exist', async () => {
    await expect(store().reserve(reservation(1, { windowIds: ['nope|daily|x'] }))).rejects.toThrow(/unknown_window/);
    expect(await store().readWindows(['nope|daily|x'])).toEqual([]);
  });

  it('creates missing windows and sets the limit of existing ones, keeping their money', async () => {
    await store().reserve(reservation(30));
    await store().upsertWindows([{ ...GLOBAL, limitMicro: 40 }, { ...GLOBAL, id: 'global|monthly|2026-11', kind: 'monthly', period: '2026-11' }]);
    expect(await window()).toMatchObject({ limitMicro: 40, reservedMicro: 30, spentMicro: 0 });
    expect(await window('global|monthly|2026-11')).toMatchObject({ limitMicro: 100, reservedMicro: 0, spentMicro: 0, wasteMicro: 0 });
    expect(await store().reserve(reservation(11, { windowIds: [GLOBAL.id] }))).toMatchObject({ refused: [{ limitMicro: 40 }] });
  });

  it("checks each window against the reserving replica's limit, not the stored one", async () => {
    // The stored limits are 100 and 60; this replica is configured with 20 for the tenant.
    expect(await store().reserve(reservation(15, { limitsMicro: [100, 20] }))).toBe(true);
    expect(await store().reserve(reservation(10, { limitsMicro: [100, 20] }))).toEqual({
      refused: [{ windowId: TENANT.id, spentMicro: 0, reservedMicro: 15, limitMicro: 20 }],
    });
    // Another replica, configured with more than is stored, may go past the stored limit.
    expect(await store().reserve(reservation(80, { limitsMicro: [1_000, 1_000] }))).toBe(true);
    expect(await store().reserve(reservation(1, { limitsMicro: [95, 95] }))).toEqual({
      refused: [
        { windowId: GLOBAL.id, spentMicro: 0, reservedMicro: 95, limitMicro: 95 },
        { windowId: TENANT.id, spentMicro: 0, reservedMicro: 95, limitMicro: 95 },
      ],
    });
    // A row with no limits (from a replica older than this check) meets the stored ones.
    expect(await store().reserve(reservation(1))).toMatchObject({ refused: expect.any(Array) });
  });

  it('settles once: commit moves reserved to spent at the real price, even above the estimate', async () => {
    const held = reservation(30);
    await store().reserve(held);
    expect(await store().settle(held.id, committed(42, 2, 5))).toBe(true);
    expect(await store().settle(held.id, { state: 'released', actualMicro: 0, wasteMicro: 0, settledAt: 6 })).toBe(false);
    expect(await store().settle(randomUUID(), committed(1))).toBe(false);
    expect(await window()).toMatchObject({ spentMicro: 42, reservedMicro: 0, wasteMicro: 2 });
  });

  it('an expired lease gives the money back; a late commit still records the spend', async () => {
    const held = reservation(40, { windowIds: [GLOBAL.id] });
    await store().reserve(held);
    expect(await store().expireLeases(99)).toBe(0);
    expect(await store().expireLeases(100)).toBe(0); // a lease ends after its last millisecond
    expect(await store().expireLeases(101)).toBe(1);
    expect(await window()).toMatchObject({ reservedMicro: 0, spentMicro: 0 });
    expect(await store().settle(held.id, committed(35))).toBe(true);
    expect(await window()).toMatchObject({ reservedMicro: 0, spentMicro: 35 });
  });

  it('an expired lease charges the money in flight as spent and waste, never more than its amount, and gives the rest back', async () => {
    const marked = reservation(50, { inFlightMicro: 10 });
    const over = reservation(8, { windowIds: [GLOBAL.id], inFlightMicro: 30 });
    expect(await store().reserve(marked)).toBe(true);
    expect(await store().reserve(over)).toBe(true);
    // Marked past its amount (a request that needed more than was held): the expiry still charges only the amount.
    expect(await store().renewLeases([{ id: marked.id, inFlightMicro: 30 }], 100)).toEqual([marked.id]);
    expect(await store().renewLeases([{ id: over.id, inFlightMicro: 30 }], 100)).toEqual([over.id]);
    expect(await store().expireLeases(101)).toBe(2);
    expect(await window()).toMatchObject({ reservedMicro: 0, spentMicro: 30 + 8, wasteMicro: 30 + 8 });
    expect(await window(TENANT.id)).toMatchObject({ reservedMicro: 0, spentMicro: 30, wasteMicro: 30 });
  });

  it('a late settlement replaces what the expiry charged, once: nothing counts twice', async () => {
    const held = reservation(50, { inFlightMicro: 40 });
    await store().reserve(held);
    await store().expireLeases(101);
    expect(await store().settle(held.id, committed(25))).toBe(true);
    expect(await store().settle(held.id, committed(25, 0, 201))).toBe(false);
    await store().settleUnconfirmed(held, committed(25, 0, 202));
    expect(await window()).toMatchObject({ reservedMicro: 0, spentMicro: 25, wasteMicro: 0 });
  });

  it('settles an unconfirmed reservation once, whether its insert landed, never did, or its lease expired', async () => {
    const landed = reservation(30);
    await store().reserve(landed);
    await store().settleUnconfirmed(landed, committed(25, 1, 5));
    await store().settleUnconfirmed(landed, committed(25, 1, 5));

    const lost = reservation(20);
    const released: Settlement = { state: 'released', actualMicro: 3, wasteMicro: 3, settledAt: 6 };
    await store().settleUnconfirmed(lost, released);
    await store().settleUnconfirmed(lost, released);
    // The insert that timed out arrives at last: it fails, and holds nothing.
    await expect(store().reserve(lost)).rejects.toThrow();

    const expired = reservation(10, { windowIds: [GLOBAL.id] });
    await store().reserve(expired);
    expect(await store().expireLeases(101)).toBe(1);
    await store().settleUnconfirmed(expired, committed(7, 0, 5));

    const global = await window();
    expect(global).toMatchObject({ reservedMicro: 0, spentMicro: 25 + 3 + 7, wasteMicro: 1 + 3 });
    if (subject!.rowTotals) expect({ spentMicro: global.spentMicro, reservedMicro: global.reservedMicro, wasteMicro: global.wasteMicro }).toEqual(await subject!.rowTotals(global.id));
  });

  it('leaves a settled reservation alone when it is settled again as unconfirmed', async () => {
    const held = reservation(30);
    await store().reserve(held);
    await store().settle(held.id, committed(12, 2));
    await store().settleUnconfirmed(held, committed(29, 9));
    expect(await window()).toMatchObject({ reservedMicro: 0, spentMicro: 12, wasteMicro: 2 });
    expect(await store().settle(held.id, committed(29))).toBe(false);
  });

  it('renewal moves a lease forward only, raises money in flight only, and leaves the windows alone', async () => {
    const held = reservation(50, { inFlightMicro: 20 });
    const gone = reservation(5, { leaseExpiresAt: 10 });
    await store().reserve(held);
    await store().reserve(gone);
    await store().expireLeases(11);
    const before = await window();
    // A replica whose clock is behind renews to 90: the lease stays at 100. A lower mark leaves 20.
    expect(await store().renewLeases([{ id: held.id, inFlightMicro: 5 }, { id: gone.id, inFlightMicro: 5 }], 90)).toEqual([held.id]);
    expect(await window()).toEqual(before);
    expect(await store().expireLeases(95)).toBe(0);
    expect(await store().expireLeases(101)).toBe(1);
    expect(await window()).toMatchObject({ reservedMicro: before.reservedMicro - 50, spentMicro: 20, wasteMicro: 20 });
  });

  it('a renewed lease does not expire', async () => {
    const held = reservation(50);
    await store().reserve(held);
    expect(await store().renewLeases([{ id: held.id, inFlightMicro: 0 }], 1_000)).toEqual([held.id]);
    expect(await store().renewLeases([], 2_000)).toEqual([]);
    expect(await store().expireLeases(500)).toBe(0);
    expect(await window()).toMatchObject({ reservedMicro: 50 });
  });

  it('admits exactly as many concurrent reservations as fit', async () => {
    const attempts = Array.from({ length: 100 }, () => store().reserve(reservation(7)));
    const admitted = (await Promise.all(attempts)).filter((outcome) => outcome === true).length;
    expect(admitted).toBe(Math.floor(60 / 7));
    for (const w of await store().readWindows(BOTH)) expect(w.reservedMicro).toBe(admitted * 7);
  });

  it('never passes a replica limit under 50 concurrent reservations, settlements among them', async () => {
    const first = reservation(9, { limitsMicro: [50, 50] });
    await store().reserve(first);
    const attempts = Array.from({ length: 50 }, (_, i) => (i === 10 ? store().settle(first.id, committed(4)) : store().reserve(reservation(3, { limitsMicro: [50, 50] }))));
    const outcomes = await Promise.all(attempts);
    const admitted = outcomes.filter((outcome, i) => i !== 10 && outcome === true).length;
    const global = await window();
    expect(global.spentMicro + global.reservedMicro).toBeLessThanOrEqual(50);
    expect(global).toMatchObject({ spentMicro: 4, reservedMicro: admitted * 3 });
    expect(admitted).toBeGreaterThanOrEqual(Math.floor((50 - 9) / 3));
  });
});
