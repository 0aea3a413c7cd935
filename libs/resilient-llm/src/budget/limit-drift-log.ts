import type { Logger } from '@nestjs/common';
import { microUsdToUsd } from '../pricing/price-table.js';
import type { BudgetWindowRow, BudgetWindowSnapshot } from './budget-store.interface.js';
import { LruMap } from './lru-map.js';

const MAX_WARNED_WINDOWS = 10_000;

/**
 * Each replica enforces the limits it is configured with; the stored limit is what the last
 * replica to write the window set, shown by the budget view. A replica that finds it differs
 * from its own configuration says so, once per window.
 */
export class LimitDriftLog {
  private readonly warned = new LruMap<string, true>(MAX_WARNED_WINDOWS);

  constructor(private readonly logger: Logger) {}

  check(configured: readonly BudgetWindowRow[], stored: readonly Pick<BudgetWindowSnapshot, 'id' | 'limitMicro'>[]): void {
    for (const window of stored) {
      const own = configured.find((candidate) => candidate.id === window.id);
      if (!own || own.limitMicro === window.limitMicro || this.warned.get(window.id)) continue;
      this.warned.set(window.id, true);
      this.logger.warn(
        `Budget window ${window.id}: the store shows a limit of $${microUsdToUsd(window.limitMicro)}, this replica is configured with ` +
          `$${microUsdToUsd(own.limitMicro)}. Each replica enforces its own configured limit; the stored one is what the last replica ` +
          `to write the window set, and is what the budget view shows. Give every replica the same budget limits.`,
      );
    }
  }
}
