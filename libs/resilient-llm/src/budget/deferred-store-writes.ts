import { withinStoreWait } from '../errors/store-wait.js';

/** A ledger write that must happen some time (a settlement, a release); safe to run twice. */
export interface StoreWrite {
  run: () => Promise<void>;
  description: string;
}

// Writes waiting for the store; past this many the oldest are dropped (their leases end them: money in flight charged, the rest returned).
export const MAX_DEFERRED_WRITES = 10_000;

export interface DeferredWriteEvents {
  deferred(count: number, error: unknown): void;
  dropped(write: StoreWrite): void;
}

/**
 * Ledger writes tried now for a bounded time, and kept for later when the store does not take
 * them: a caller never waits for a store that hangs, and what it owes the ledger is not lost.
 */
export class DeferredStoreWrites {
  private readonly waiting: StoreWrite[] = [];
  private flushing?: Promise<void>;

  constructor(
    private readonly events: DeferredWriteEvents,
    private readonly capacity = MAX_DEFERRED_WRITES,
  ) {}

  get size(): number {
    return this.waiting.length;
  }

  /** Runs the writes in order for at most `waitMs`; those that did not finish wait for `flush`. True when all ran. */
  async runWithin(writes: StoreWrite[], waitMs: number): Promise<boolean> {
    let done = 0;
    try {
      await withinStoreWait(waitMs, async (signal) => {
        for (const write of writes) {
          signal.throwIfAborted();
          await write.run();
          done++;
        }
      });
      return true;
    } catch (error) {
      // The write in flight when time ran out may still land: it is kept too, since it is safe to repeat.
      this.keep(writes.slice(done), error);
      return false;
    }
  }

  /** Tries the waiting writes again, in order, stopping at the first failure; one flush at a time. */
  flush(waitMs: number): Promise<void> {
    if (this.waiting.length === 0) return this.flushing ?? Promise.resolve();
    this.flushing ??= this.runWithin(this.waiting.splice(0), waitMs)
      .then(() => undefined)
      .finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private keep(writes: StoreWrite[], error: unknown): void {
    if (writes.length === 0) return;
    this.waiting.push(...writes);
    this.events.deferred(writes.length, error);
    while (this.waiting.length > this.capacity) this.events.dropped(this.waiting.shift()!);
  }
}
