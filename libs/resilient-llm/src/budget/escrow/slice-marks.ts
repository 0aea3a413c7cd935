import type { Clock } from '../../time/clock.interface.js';
import type { BudgetLedger } from '../budget-ledger.js';
import type { EscrowSlice } from './escrow-slice.js';

/**
 * The leases and the money in flight of slice rows. A mark is raised ahead of what the calls
 * spent or sent (by a quarter of the slice), so that most requests need no statement; callers
 * that need a mark while one is being raised wait for it and check again.
 */
export class SliceMarks {
  private readonly raising = new WeakMap<EscrowSlice, Promise<void>>();

  constructor(
    private readonly ledger: BudgetLedger,
    private readonly clock: Clock,
    private readonly leaseMs: number,
  ) {}

  /** Until the store knows every slice's exposure to be in flight (or the slice turned out expired). */
  async cover(slices: Iterable<EscrowSlice>, waitMs: number): Promise<void> {
    await Promise.all([...slices].map((slice) => this.coverOne(slice, waitMs)));
  }

  /** Renews the slices' leases (one statement); the ones the store no longer holds are expired. */
  async renew(slices: EscrowSlice[], waitMs: number): Promise<void> {
    if (slices.length === 0) return;
    const held = await this.ledger.renew(slices.map((slice) => ({ id: slice.id, inFlightMicro: 0 })), this.clock.now() + this.leaseMs, waitMs);
    for (const slice of slices) if (!held.has(slice.id)) slice.expire();
  }

  private async coverOne(slice: EscrowSlice, waitMs: number): Promise<void> {
    while (!slice.marked) {
      let raising = this.raising.get(slice);
      if (!raising) {
        raising = this.raise(slice, waitMs).finally(() => this.raising.delete(slice));
        this.raising.set(slice, raising);
      }
      await raising;
    }
  }

  private async raise(slice: EscrowSlice, waitMs: number): Promise<void> {
    const target = slice.markTarget();
    const held = await this.ledger.renew([{ id: slice.id, inFlightMicro: target }], this.clock.now() + this.leaseMs, waitMs);
    if (!held.has(slice.id)) slice.expire();
    else slice.markMicro = Math.max(slice.markMicro, target);
  }
}
