import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { resolveStorageOptions } from '../storage/storage-options.validation.js';
import { ResilientLlmStorage } from '../storage/resilient-llm-storage.js';
import { TypeOrmBudgetStore } from '../storage/typeorm-budget.store.js';
import { ManualClock } from '../testing/manual-clock.js';
import { BudgetLedger } from './budget-ledger.js';
import type { BudgetReservation } from './budget-status.interface.js';
import { BudgetWindowCache } from './budget-window-cache.js';
import { coveredMicro } from './in-flight-marks.js';
import { LeaseKeeper } from './lease-keeper.js';
import { StoreFailures } from './store-failures.js';

const LEASE_MS = 60_000;
const WINDOW = { id: 'global|daily|2026-01-01', scope: 'global', kind: 'daily' as const, period: '2026-01-01', startsAt: 0, endsAt: 2e12, limitMicro: 1_000 };

describe('LeaseKeeper', () => {
  let storage: ResilientLlmStorage;
  let store: TypeOrmBudgetStore;
  let clock: ManualClock;
  let keeper: LeaseKeeper;

  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    storage = await ResilientLlmStorage.open(resolveStorageOptions({ database: ':memory:' }));
    store = new TypeOrmBudgetStore(storage.dataSource);
    await store.upsertWindows([WINDOW]);
    clock = new ManualClock();
    const failures = new StoreFailures(new Logger('test'), false);
    keeper = new LeaseKeeper(new BudgetLedger(store, new BudgetWindowCache()), clock, LEASE_MS, 1_000, failures);
  });
  afterEach(async () => {
    keeper.stop();
    vi.useRealTimers();
    await storage.close();
  });

  async function openCall(amountMicro = 100): Promise<BudgetReservation> {
    const id = randomUUID();
    const now = clock.now();
    expect(await store.reserve({ id, windowIds: [WINDOW.id], limitsMicro: [WINDOW.limitMicro], scope: 'global', model: 'm', amountMicro, createdAt: now, leaseExpiresAt: now + LEASE_MS })).toBe(true);
    const reservation: BudgetReservation = { model: 'm', windows: [WINDOW], rows: [{ id, amountMicro }], state: 'healthy', recorded: true };
    keeper.keep(reservation);
    return reservation;
  }

  const leaseOf = async (id: string) => Number((await storage.dataSource.query('SELECT lease_expires_at AS lease FROM resilient_llm_budget_reservation WHERE id = ?', [id]))[0].lease);

  it('renews an open call every tick, from the clock of now, until it is released', async () => {
    const call = await openCall();
    keeper.start(LEASE_MS / 4);
    clock.advance(LEASE_MS / 4);
    await vi.advanceTimersByTimeAsync(LEASE_MS / 4);
    await vi.waitFor(async () => expect(await leaseOf(call.rows[0].id)).toBe(clock.now() + LEASE_MS));
    // Time goes by for longer than a lease: the renewals keep the live call's money held.
    for (let tick = 0; tick < 8; tick++) {
      clock.advance(LEASE_MS / 4);
      await vi.advanceTimersByTimeAsync(LEASE_MS / 4);
      await keeper.renewAll();
    }
    expect(await store.expireLeases(clock.now())).toBe(0);

    keeper.release(call);
    const last = await leaseOf(call.rows[0].id);
    clock.advance(LEASE_MS / 4);
    await vi.advanceTimersByTimeAsync(LEASE_MS / 4);
    await keeper.renewAll();
    expect(await leaseOf(call.rows[0].id)).toBe(last);
  });

  it('marks a row whose lease ended elsewhere as expired: the call must reserve again', async () => {
    const call = await openCall();
    expect(await store.expireLeases(clock.now() + 2 * LEASE_MS)).toBe(1);
    await keeper.renewAll();
    expect(call.rows[0]).toMatchObject({ expired: true });
    // The call now covers nothing (nothing was in flight): its next request tops up first.
    expect(coveredMicro(call.rows)).toBe(0);
  });

  it('raises money in flight before a request is sent, and reports a lease that ended', async () => {
    const call = await openCall();
    expect(await keeper.mark(call, 60, 1_000)).toBe(true);
    expect(call.rows[0].inFlightMicro).toBe(60);
    expect(Number((await storage.dataSource.query('SELECT in_flight_micro AS f FROM resilient_llm_budget_reservation'))[0].f)).toBe(60);
    await store.expireLeases(clock.now() + 2 * LEASE_MS);
    expect(await keeper.mark(call, 80, 1_000)).toBe(false);
    // What the expiry charged stays the last mark the store confirmed.
    expect(call.rows[0]).toMatchObject({ expired: true, inFlightMicro: 60 });
  });
});
