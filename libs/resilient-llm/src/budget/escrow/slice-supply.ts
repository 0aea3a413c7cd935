import type { Clock } from '../../time/clock.interface.js';
import { BudgetExhaustedException } from '../budget-exhausted.exception.js';
import type { BudgetLedger } from '../budget-ledger.js';
import type { BudgetWindowRow, BudgetWindowSnapshot } from '../budget-store.interface.js';
import type { BudgetState } from '../budget-state.js';
import type { BudgetWindowStatus } from '../budget-status.interface.js';
import { newReservationRow } from '../reservation-row.js';
import { EscrowSlice, type SliceDraw } from './escrow-slice.js';
import { RecentDemand, sliceAfterRefusal, sliceSize } from './slice-sizing.js';

/** How a slice's windows stand right after it was taken: the calls' state, and what is left. */
export type DescribeSlice = (windows: readonly BudgetWindowRow[], snapshots: BudgetWindowSnapshot[]) => { state: BudgetState; tightest?: BudgetWindowStatus };

interface SliceSet {
  current?: EscrowSlice;
  refill?: Promise<void>;
  /** What callers waiting on the refill need together. */
  waitingMicro: number;
  demand: RecentDemand;
  /** Limit minus spent minus reserved in the tightest window, when last seen. */
  leftMicro?: number;
}

interface SliceAsk {
  key: string;
  windows: readonly BudgetWindowRow[];
  scopeKey: string | undefined;
  amountMicro: number;
  waitMs: number;
  afterAttempts?: number;
}

export interface SliceSupplyDeps {
  ledger: BudgetLedger;
  clock: Clock;
  leaseMs: number;
  maxSliceMicro: number;
  describe: DescribeSlice;
  /** Settles a retired slice's row once no call is open on it (what its calls spent; the rest returns). */
  settleRow(slice: EscrowSlice): Promise<void>;
}

const keyOf = (windows: readonly BudgetWindowRow[]): string => windows.map((window) => `${window.id}@${window.limitMicro}`).join(',');

function leftIn(windows: readonly BudgetWindowRow[], snapshots: readonly BudgetWindowSnapshot[]): number {
  const stored = new Map(snapshots.map((snapshot) => [snapshot.id, snapshot]));
  return Math.min(...windows.map((window) => window.limitMicro - (stored.get(window.id)?.spentMicro ?? 0) - (stored.get(window.id)?.reservedMicro ?? 0)));
}

/**
 * The slices of one replica, one set per scope's windows: draws served in memory while the
 * current slice has room; otherwise one refill (one reservation statement) that every caller
 * then waiting shares. A refill the store refuses is retried smaller, and at last at the exact
 * need, so that the last money stays usable and a call is refused only when the store refuses it.
 */
export class SliceSupply {
  private readonly sets = new Map<string, SliceSet>();
  /** The key of each windows array asked for: the guard hands the same array to every call of a scope. */
  private readonly keys = new WeakMap<readonly BudgetWindowRow[], string>();
  /** Retired slices whose rows are not settled yet. */
  private readonly retired = new Map<EscrowSlice, Promise<void> | undefined>();

  constructor(private readonly deps: SliceSupplyDeps) {}

  /** A draw from the current slice, in memory, when it has room and its mark already covers the draw's exposure. */
  drawNow(windows: readonly BudgetWindowRow[], amountMicro: number, exposureMicro: number): SliceDraw | undefined {
    const set = this.sets.get(this.keyOf(windows));
    if (!set?.current?.servesNow(amountMicro, exposureMicro)) return undefined;
    set.demand.record(this.deps.clock.now(), amountMicro);
    return set.current.draw(amountMicro, exposureMicro);
  }

  async draw(windows: readonly BudgetWindowRow[], scopeKey: string | undefined, amountMicro: number, exposureMicro: number, waitMs: number, afterAttempts?: number): Promise<SliceDraw> {
    const key = this.keyOf(windows);
    const set = this.setOf(key);
    set.demand.record(this.deps.clock.now(), amountMicro);
    return this.served(set, { key, windows, scopeKey, amountMicro, waitMs, afterAttempts }, () => set.current?.draw(amountMicro, exposureMicro));
  }

  /**
   * Until a current slice of `windows` has `needMicro` unused, taking one if need be (shared
   * with the callers waiting then); false, with no statement, when the store was last seen with
   * less than that left in a window.
   */
  async ensureRoom(windows: readonly BudgetWindowRow[], scopeKey: string | undefined, needMicro: number, waitMs: number): Promise<boolean> {
    const key = this.keyOf(windows);
    const set = this.setOf(key);
    if (set.leftMicro !== undefined && set.leftMicro < needMicro) return false;
    return this.served(set, { key, windows, scopeKey, amountMicro: needMicro, waitMs }, () => set.current?.hasRoomFor(needMicro) || undefined);
  }

  /** What `serve` gives once the current slice can give it: a refill (one at a time) until then, or its refusal. */
  private async served<T>(set: SliceSet, ask: SliceAsk, serve: () => T | undefined): Promise<T> {
    const { key, windows, scopeKey, amountMicro, waitMs, afterAttempts } = ask;
    for (;;) {
      const served = serve();
      if (served !== undefined) return served;
      if (set.refill) {
        set.waitingMicro += amountMicro;
        await set.refill.catch(() => undefined);
        set.waitingMicro -= amountMicro;
        continue;
      }
      set.refill = this.refill(set, key, windows, scopeKey, amountMicro, waitMs, afterAttempts).finally(() => (set.refill = undefined));
      await set.refill;
    }
  }

  /** Slices that hold money in the store now (current, or retired with calls open on them). */
  live(): EscrowSlice[] {
    const current = [...this.sets.values()].flatMap((set) => (set.current ? [set.current] : []));
    return [...current, ...this.retired.keys()].filter((slice) => !slice.expired);
  }

  /** The current slice of a scope's windows, while it can still give money to calls. */
  currentOf(windows: readonly BudgetWindowRow[]): EscrowSlice | undefined {
    const slice = this.sets.get(this.keyOf(windows))?.current;
    return slice && !slice.retiring && !slice.expired ? slice : undefined;
  }

  /** The unused money of current slices, per window: this replica can still give it to calls. */
  idleByWindow(): Map<string, number> {
    const idle = new Map<string, number>();
    for (const set of this.sets.values()) {
      const slice = set.current;
      if (!slice || slice.expired) continue;
      for (const window of slice.windows) idle.set(window.id, (idle.get(window.id) ?? 0) + slice.roomMicro);
    }
    return idle;
  }

  /** Retires current slices: all of them, or those older than `olderThan` (epoch ms) or idle; sets left empty are forgotten. */
  retireCurrent(olderThan = Number.POSITIVE_INFINITY): void {
    for (const [key, set] of this.sets) {
      const slice = set.current;
      if (slice && (slice.createdAt < olderThan || slice.openDraws === 0 || slice.expired)) {
        set.current = undefined;
        this.retire(slice);
      }
      if (!set.current && !set.refill && set.demand.overHorizon(this.deps.clock.now()) === 0) this.sets.delete(key);
    }
  }

  /** Settles the row of a retired slice once its last call settled. */
  release(slice: EscrowSlice): void {
    if (!slice.settleable || !this.retired.has(slice) || this.retired.get(slice)) return;
    this.retired.set(slice, this.deps.settleRow(slice).finally(() => this.retired.delete(slice)));
  }

  /** Until the rows of retired slices that can be settled are. */
  async returned(key?: string): Promise<void> {
    await Promise.all([...this.retired].filter(([slice]) => key === undefined || slice.key === key).map(([, settling]) => settling));
  }

  private retire(slice: EscrowSlice): void {
    slice.retiring = true;
    this.retired.set(slice, undefined);
    this.release(slice);
  }

  private async refill(set: SliceSet, key: string, windows: readonly BudgetWindowRow[], scopeKey: string | undefined, needMicro: number, waitMs: number, afterAttempts?: number): Promise<void> {
    // Money a retired slice is giving back is in the store before this slice is asked for.
    await this.returned(key);
    const now = this.deps.clock.now();
    const size = sliceSize({ needMicro, waitingMicro: set.waitingMicro, recentMicro: set.demand.overHorizon(now), maxSliceMicro: this.deps.maxSliceMicro, leftMicro: set.leftMicro });
    const slice = await this.take(set, key, windows, scopeKey, { size, needMicro, now, waitMs, afterAttempts });
    if (set.current) this.retire(set.current);
    set.current = slice;
  }

  private async take(set: SliceSet, key: string, windows: readonly BudgetWindowRow[], scopeKey: string | undefined, ask: { size: number; needMicro: number; now: number; waitMs: number; afterAttempts?: number }): Promise<EscrowSlice> {
    const hold = (amountMicro: number) => this.hold(set, key, windows, scopeKey, amountMicro, ask);
    if (ask.size <= ask.needMicro) return hold(ask.needMicro);
    try {
      return await hold(ask.size);
    } catch (error) {
      if (!(error instanceof BudgetExhaustedException)) throw error;
      const refused = error.window;
      set.leftMicro = refused.limitMicro - refused.spentMicro - refused.reservedMicro;
    }
    const smaller = sliceAfterRefusal(ask.needMicro, set.leftMicro ?? 0, this.deps.maxSliceMicro);
    if (smaller > ask.needMicro && smaller < ask.size) {
      try {
        return await hold(smaller);
      } catch (error) {
        if (!(error instanceof BudgetExhaustedException)) throw error;
      }
    }
    return hold(ask.needMicro);
  }

  private async hold(set: SliceSet, key: string, windows: readonly BudgetWindowRow[], scopeKey: string | undefined, amountMicro: number, ask: { now: number; waitMs: number; afterAttempts?: number }): Promise<EscrowSlice> {
    const row = newReservationRow(this.deps.leaseMs, windows, scopeKey, 'escrow', amountMicro, ask.now);
    await this.deps.ledger.hold(row, windows, ask.now, ask.waitMs, ask.afterAttempts);
    const snapshots = await this.deps.ledger.snapshot(row.windowIds, ask.waitMs);
    if (snapshots.length > 0) set.leftMicro = leftIn(windows, snapshots);
    const { state, tightest } = this.deps.describe(windows, snapshots);
    return new EscrowSlice(row.id, key, windows, amountMicro, ask.now, state, tightest);
  }

  private keyOf(windows: readonly BudgetWindowRow[]): string {
    let key = this.keys.get(windows);
    if (key === undefined) this.keys.set(windows, (key = keyOf(windows)));
    return key;
  }

  private setOf(key: string): SliceSet {
    let set = this.sets.get(key);
    if (!set) this.sets.set(key, (set = { waitingMicro: 0, demand: new RecentDemand() }));
    return set;
  }
}
