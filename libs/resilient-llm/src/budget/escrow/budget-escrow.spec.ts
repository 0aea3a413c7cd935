import { isBudgetExhaustedException } from '../budget-exhausted.exception.js';
import type { BudgetStore, NewReservation } from '../budget-store.interface.js';
import type { BudgetReservation } from '../budget-status.interface.js';
import { BudgetGuard } from '../budget.guard.js';
import { BudgetLedger } from '../budget-ledger.js';
import type { ResilientLlmModuleOptions } from '../../module/resilient-llm-options.interface.js';
import { resolveModuleOptions } from '../../module/resilient-llm-options.validation.js';
import { ResilientLlmTelemetry } from '../../telemetry/resilient-llm.telemetry.js';
import { InMemoryBudgetStore } from '../../testing/in-memory-budget.store.js';
import { ManualClock } from '../../testing/manual-clock.js';

const MODEL = 'gpt-4o-mini';

/** The in-memory store, checking after every statement that no window holds more than its limit, and keeping the slices asked for. */
class WatchedStore extends InMemoryBudgetStore {
  readonly asked: Array<{ amountMicro: number; leftMicro: number }> = [];
  overshoot = 0;

  override async reserve(reservation: NewReservation) {
    const [before] = await this.readWindows(reservation.windowIds.slice(0, 1));
    const leftMicro = before ? reservation.limitsMicro![0] - before.spentMicro - before.reservedMicro : Number.POSITIVE_INFINITY;
    this.asked.push({ amountMicro: reservation.amountMicro, leftMicro });
    const outcome = await super.reserve(reservation);
    for (const window of await this.readWindows(reservation.windowIds)) this.overshoot = Math.max(this.overshoot, window.spentMicro + window.reservedMicro - window.limitMicro);
    return outcome;
  }
}

describe('Budget escrow on the in-memory store', () => {
  let store: WatchedStore;
  let clock: ManualClock;
  beforeEach(() => {
    store = new WatchedStore();
    clock = new ManualClock();
  });

  function replica(budget: ResilientLlmModuleOptions['budget']): BudgetGuard {
    const resolved = resolveModuleOptions({ budget: { escrow: true, ...budget }, storage: { database: ':memory:', maxWaitMs: 50 } });
    return new BudgetGuard(resolved, store as BudgetStore, clock, new ResilientLlmTelemetry(resolved, clock));
  }

  const daily = async (guard: BudgetGuard) => {
    const [window] = (await guard.status()).windows;
    return { spentMicro: window.spentMicroUsd, reservedMicro: window.reservedMicroUsd, wasteMicro: window.wasteMicroUsd };
  };

  /** `count` reserves of `amountMicro` at once, spread over the replicas: the reservations admitted, and the 429s. */
  async function reserveAtOnce(replicas: BudgetGuard[], count: number, amountMicro: number, inFlightMicro = amountMicro) {
    const outcomes = await Promise.allSettled(Array.from({ length: count }, (_, index) => replicas[index % replicas.length].reserve({ amountMicro, model: MODEL, inFlightMicro })));
    const admitted = outcomes.flatMap((outcome, index) => (outcome.status === 'fulfilled' ? [{ guard: replicas[index % replicas.length], reservation: outcome.value }] : []));
    const refused = outcomes.filter((outcome) => outcome.status === 'rejected').map((outcome) => (outcome as PromiseRejectedResult).reason as unknown);
    return { admitted, refused };
  }

  it('four replicas, 400 reserves at once on a limit that fits 37: exactly 37 admitted, the fleet never past the limit, one statement per slice', async () => {
    const replicas = Array.from({ length: 4 }, () => replica({ limits: { dailyUsd: (37 * 32) / 1e6 } }));
    const { admitted, refused } = await reserveAtOnce(replicas, 400, 32);
    expect(admitted).toHaveLength(37);
    expect(refused.every(isBudgetExhaustedException)).toBe(true);
    expect(refused[0]).toMatchObject({ requestedMicro: 32 });
    expect(store.overshoot).toBeLessThanOrEqual(0);
    // Fewer statements than calls: slices served most of them (refused calls each had their own).
    expect(store.asked.filter((ask) => ask.amountMicro > 32).length).toBeGreaterThan(0);
    for (const { guard, reservation } of admitted) await guard.settle(reservation, { actualMicro: 32, wasteMicro: 0, succeeded: true });
    await Promise.all(replicas.map((guard) => guard.returnSlices()));
    expect(await daily(replicas[0])).toEqual({ spentMicro: 37 * 32, reservedMicro: 0, wasteMicro: 0 });
  });

  it('a settled reservation is no longer served by the slice: a request sent after it is not marked as covered', async () => {
    const guard = replica({ limits: { dailyUsd: 0.1 } });
    const reservation = await guard.reserve({ amountMicro: 32, model: MODEL, inFlightMicro: 32 });
    await expect(guard.markInFlight(reservation, 32)).resolves.toBe(true);
    await guard.settle(reservation, { actualMicro: 32, wasteMicro: 0, succeeded: true });
    // A fired-and-forgotten request waking from its backoff after its call settled must hold money anew.
    await expect(guard.markInFlight(reservation, 64)).resolves.toBe(false);
  });

  it('sizes slices from demand and shrinks them near the limit, to the exact need for the last money', async () => {
    const guard = replica({ limits: { dailyUsd: 0.1 } });
    const { admitted } = await reserveAtOnce([guard], 300, 1_000);
    expect(admitted).toHaveLength(100);
    const slices = store.asked.filter((ask) => ask.leftMicro >= ask.amountMicro);
    expect(Math.max(...slices.map((ask) => ask.amountMicro))).toBeGreaterThan(1_000);
    // Past the first slice (sized from nothing seen), never more than a quarter of what is left, or the need.
    for (const ask of slices.slice(1)) expect(ask.amountMicro).toBeLessThanOrEqual(Math.max(1_000, ask.leftMicro / 4));
    expect(slices.at(-1)!.amountMicro).toBe(1_000);
  });

  it('refuses a call only when the store does: another replica needs no slice of its own to reserve the last money', async () => {
    const [a, b] = [replica({ limits: { dailyUsd: 0.01 } }), replica({ limits: { dailyUsd: 0.01 } })];
    const first = await a.reserve({ amountMicro: 2_000, model: MODEL });
    await a.settle(first, { actualMicro: 2_000, wasteMicro: 0, succeeded: true });
    await a.returnSlices();
    const last = await b.reserve({ amountMicro: 8_000, model: MODEL });
    expect(last.rows[0].amountMicro).toBe(8_000);
    const refusal = await a.reserve({ amountMicro: 1, model: MODEL }).catch((error: unknown) => error);
    expect(refusal).toMatchObject({ requestedMicro: 1, window: { spentMicro: 2_000, reservedMicro: 8_000 } });
  });

  it("admits a call before its body when the money left is in the replica's own idle slice", async () => {
    const guard = replica({ limits: { dailyUsd: 0.01 } });
    const calls = await reserveAtOnce([guard], 20, 500);
    await Promise.all(calls.admitted.slice(1).map(({ reservation }) => guard.settle(reservation, { actualMicro: 0, wasteMicro: 0, succeeded: false })));
    // The slice's unused money is reserved in the store, yet this replica can still give it to a call.
    expect((await daily(guard)).reservedMicro).toBe(10_000);
    await expect(guard.checkAdmission({ estimateMicro: 500 })).resolves.toBeDefined();
  });

  it("answers a call's admission from its slice without a read while the slice holds the estimate", async () => {
    const guard = replica({ limits: { dailyUsd: 0.01 } });
    const [first, ...others] = (await reserveAtOnce([guard], 20, 500)).admitted;
    await Promise.all(others.map(({ reservation }) => guard.settle(reservation, { actualMicro: 0, wasteMicro: 0, succeeded: false })));
    const slice = (await daily(guard)).reservedMicro;
    expect(slice).toBeGreaterThan(1_000);
    const reads = vi.spyOn(store, 'readWindows');
    // 500 held by the open call plus 1,000 estimated, of 10,000: healthy, as a read would say.
    await expect(guard.checkAdmission({ estimateMicro: 1_000 })).resolves.toBe('healthy');
    // All of the slice's unused money: the window would be full with it.
    await expect(guard.checkAdmission({ estimateMicro: slice - 500 })).resolves.toBe('exhausted');
    expect(reads).not.toHaveBeenCalled();
    // More than the slice has unused: the store is read, and says what the windows can take.
    await expect(guard.checkAdmission({ estimateMicro: slice - 499 })).resolves.toBeDefined();
    expect(reads).toHaveBeenCalled();
    await guard.settle(first.reservation, { actualMicro: 500, wasteMicro: 0, succeeded: true });
  });

  it('answers admissions no slice can answer yet with one slice taken for the calls checking at once, not a read each', async () => {
    const guard = replica({ limits: { dailyUsd: 1 } });
    const admissionReads = vi.spyOn(BudgetLedger.prototype, 'admission');
    const states = await Promise.all(Array.from({ length: 10 }, () => guard.checkAdmission({ estimateMicro: 500 })));
    expect(states).toEqual(Array(10).fill('healthy'));
    expect(admissionReads).not.toHaveBeenCalled();
    expect(store.asked).toHaveLength(1);
    // Sized for all of them: their calls then reserve from it in memory.
    const { admitted } = await reserveAtOnce([guard], 10, 500);
    expect([admitted.length, store.asked.length]).toEqual([10, 1]);
    for (const { reservation } of admitted) guard.settle(reservation, { actualMicro: 500, wasteMicro: 0, succeeded: true });
    await guard.returnSlices();
    expect(await daily(guard)).toEqual({ spentMicro: 5_000, reservedMicro: 0, wasteMicro: 0 });
    admissionReads.mockRestore();
  });

  it('returns unused slice money on shutdown, keeping what the calls spent', async () => {
    const guard = replica({ limits: { dailyUsd: 1 } });
    const { admitted } = await reserveAtOnce([guard], 10, 1_000);
    for (const { reservation } of admitted) await guard.settle(reservation, { actualMicro: 700, wasteMicro: 100, succeeded: true });
    expect((await daily(guard)).reservedMicro).toBeGreaterThan(0);
    await guard.beforeApplicationShutdown();
    expect(await daily(guard)).toEqual({ spentMicro: 7_000, reservedMicro: 0, wasteMicro: 1_000 });
  });

  it("a dead replica's slice expires: what its calls spent or sent is charged, the rest returns, a late settlement replaces the charge", async () => {
    const dead = replica({ limits: { dailyUsd: 1 }, leaseMs: 600_000 });
    const survivor = replica({ limits: { dailyUsd: 1 }, leaseMs: 600_000 });
    const { admitted } = await reserveAtOnce([dead], 8, 1_000, 0);
    const sent: BudgetReservation[] = admitted.slice(0, 5).map(({ reservation }) => reservation);
    for (const reservation of sent) expect(await dead.markInFlight(reservation, 1_000)).toBe(true);
    const slicesMicro = (await daily(dead)).reservedMicro;
    clock.advance(600_001);
    expect(await survivor.expireLeases()).toBeGreaterThan(0);
    const charged = await daily(survivor);
    expect(charged.reservedMicro).toBe(0);
    expect(charged.spentMicro).toBeGreaterThanOrEqual(5_000);
    expect(charged.spentMicro).toBeLessThan(slicesMicro);
    // The replica was only slow: its calls settle, its slices after them, at what they spent.
    for (const { reservation } of admitted) await dead.settle(reservation, { actualMicro: 900, wasteMicro: 0, succeeded: true });
    await dead.returnSlices();
    expect(await daily(survivor)).toMatchObject({ spentMicro: 7_200, reservedMicro: 0 });
  });
});
