import type { LoggerService } from '@nestjs/common';
import { IdempotencyStoreUnavailableException } from './idempotency-store-unavailable.exception.js';
import { withinStoreWait } from '../errors/store-wait.js';
import type { ClaimResult, IdempotencyClaim, IdempotencyStore, StoredResponse } from './idempotency-store.interface.js';

/**
 * The interceptor's use of the store, and what a store failure means at each step: before the
 * handler, a refusal (503); after it, a line in the log, never an error over a done request.
 */
export class IdempotencyRecords {
  constructor(
    private readonly store: IdempotencyStore,
    /** The key's header name, for messages. */
    private readonly header: string,
    private readonly logger: LoggerService,
    /** `storage.maxWaitMs`: no request waits longer for the store (a claim that lands later holds its key until its lease ends). */
    private readonly maxWaitMs: number,
  ) {}

  /** Takes the key, or refuses the request with 503: running it without its record could run it twice. */
  async claim(claim: IdempotencyClaim): Promise<ClaimResult> {
    try {
      return await withinStoreWait(this.maxWaitMs, () => this.store.claim(claim));
    } catch (error) {
      this.logger.error(`Idempotency store unavailable, refusing a request with a key: ${(error as Error).message}`);
      throw new IdempotencyStoreUnavailableException(this.header, error);
    }
  }

  /** Stores the outcome; a failure here is logged, never sent: the handler has already done its work. */
  async complete(id: string, owner: string, outcome: () => StoredResponse): Promise<void> {
    let stored: StoredResponse;
    try {
      stored = outcome();
    } catch (error) {
      await this.release(id, owner, `the response cannot be stored as JSON: ${(error as Error).message}`);
      return;
    }
    try {
      if (!(await withinStoreWait(this.maxWaitMs, () => this.store.complete(id, owner, stored)))) this.logger.warn(`Idempotency record ${id} was taken over before its response could be stored`);
    } catch (error) {
      // The response still goes out; a repeat gets 409 until the lease ends, then runs again.
      this.logger.warn(`Could not store the idempotent response ${id}: ${(error as Error).message}`);
    }
  }

  async release(id: string, owner: string, why: string): Promise<void> {
    try {
      await withinStoreWait(this.maxWaitMs, () => this.store.release(id, owner));
    } catch (error) {
      this.logger.warn(`Could not release idempotency key ${id} (${why}): ${(error as Error).message}`);
    }
  }
}
