import { hasBrand } from './brand.js';

const brand = Symbol.for('resilient-llm.StoreFileReplacedError');

export type StoreFileChange = 'removed' | 'replaced';

/**
 * The SQLite file the store opened is no longer the file at its path: it was deleted, or another
 * file took its place. The connection would keep writing to a file nobody else sees while a new
 * process starts from zero on the path, so the store refuses every statement until a restart.
 */
export class StoreFileReplacedError extends Error {
  readonly [brand] = true;
  override readonly name = 'StoreFileReplacedError';

  constructor(
    readonly path: string,
    readonly change: StoreFileChange,
  ) {
    super(
      `resilient-llm: the SQLite store "${path}" was ${change} while the app was running. Budgets and idempotency ` +
        `records are refused until the app is restarted on the file that holds the ledger ("storage.database").`,
    );
  }
}

export const isStoreFileReplacedError = (error: unknown): error is StoreFileReplacedError => hasBrand(error, brand);
