import type { Logger } from '@nestjs/common';
import { isStoreFileReplacedError } from '../errors/store-file-replaced.error.js';
import { BudgetStoreUnavailableException } from './budget-store-unavailable.exception.js';
import { DeferredStoreWrites, type StoreWrite } from './deferred-store-writes.js';
import { StoreOutageLog } from './store-outage-log.js';

/**
 * What the guard does when the store does not answer: refuse the call (fail-closed) or admit it
 * (fail-open), keep the ledger writes it could not make for later, and log an outage once.
 */
export class StoreFailures {
  private readonly outage: StoreOutageLog;
  readonly deferred: DeferredStoreWrites;

  constructor(
    private readonly logger: Logger,
    private readonly failOpen: boolean,
  ) {
    this.outage = new StoreOutageLog(logger);
    this.deferred = new DeferredStoreWrites({
      deferred: (count, error) => this.outage.failed(`Budget store unavailable; ${count} ledger write(s) will be retried`, error),
      dropped: (write) => this.logger.error(`Too many budget writes wait for the store; dropped the ${write.description} (its lease ends it: what was in flight is charged, the rest returns)`),
    });
  }

  /** Fail open: the call goes on without the store. A store whose file was replaced is never trusted to catch up. */
  admitsDespite(error: unknown): boolean {
    if (this.failOpen && !isStoreFileReplacedError(error)) {
      this.outage.failed('Budget store unavailable, admitting calls anyway (budget.onStoreError is "fail-open")', error);
      return true;
    }
    this.outage.failed('Budget store unavailable, refusing calls', error);
    return false;
  }

  /** Fail open: undefined, the caller goes on without the store; fail closed: 503. */
  admitOrRefuse(error: unknown): undefined {
    if (this.admitsDespite(error)) return undefined;
    throw new BudgetStoreUnavailableException(error);
  }

  failed(what: string, error: unknown): void {
    this.outage.failed(what, error);
  }

  recovered(): void {
    this.outage.recovered();
  }

  /** Runs the writes within `waitMs`, keeping what did not finish for a later flush. */
  async write(writes: StoreWrite[], waitMs: number): Promise<void> {
    if (await this.deferred.runWithin(writes, waitMs)) this.outage.recovered();
  }
}
