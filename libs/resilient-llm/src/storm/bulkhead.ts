import { ConcurrencyLimitException } from './concurrency-limit.exception.js';

interface Waiter {
  cap: number;
  grant: (release: () => void) => void;
  refuse: (error: Error) => void;
}

/**
 * At most `limit` requests in flight to one model (`strictLimit` for calls in strict mode),
 * the rest waiting in a bounded FIFO queue for at most `queueTimeoutMs`.
 */
export class Bulkhead {
  private inFlight = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    readonly limit: number,
    private readonly strictLimit: number,
    private readonly maxQueue: number,
    private readonly queueTimeoutMs: number,
    private readonly model: string,
  ) {}

  /** A slot, waiting at most `queueTimeoutMs` (or `maxWaitMs`, the caller's deadline, when sooner). */
  acquire(strict: boolean, signal?: AbortSignal, maxWaitMs = Number.POSITIVE_INFINITY): Promise<() => void> {
    const cap = strict ? this.strictLimit : this.limit;
    if (this.queue.length === 0 && this.inFlight < cap) return Promise.resolve(this.take());
    if (this.queue.length >= this.maxQueue) {
      return Promise.reject(new ConcurrencyLimitException(this.model, `${this.limit} requests are in flight and ${this.maxQueue} wait already`));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        cap,
        grant: (release) => {
          cleanup();
          resolve(release);
        },
        refuse: (error) => {
          cleanup();
          reject(error);
        },
      };
      const waitMs = Math.max(0, Math.min(this.queueTimeoutMs, maxWaitMs));
      const timer = setTimeout(() => this.drop(waiter, new ConcurrencyLimitException(this.model, `no slot within ${waitMs} ms`)), waitMs);
      const onAbort = () => this.drop(waiter, signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      this.queue.push(waiter);
    });
  }

  /** A slot now, when one is free and nobody waits for it; undefined otherwise. */
  tryAcquire(strict: boolean): (() => void) | undefined {
    return this.queue.length === 0 && this.inFlight < (strict ? this.strictLimit : this.limit) ? this.take() : undefined;
  }

  private take(): () => void {
    this.inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
      this.drain();
    };
  }

  private drain(): void {
    for (let index = 0; index < this.queue.length; ) {
      const waiter = this.queue[index];
      if (this.inFlight >= waiter.cap) {
        index++;
        continue;
      }
      this.queue.splice(index, 1);
      waiter.grant(this.take());
    }
  }

  private drop(waiter: Waiter, error: Error): void {
    const index = this.queue.indexOf(waiter);
    if (index === -1) return;
    this.queue.splice(index, 1);
    waiter.refuse(error);
  }
}
