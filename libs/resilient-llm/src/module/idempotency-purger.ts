import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { HandlerDiscovery } from './handler-discovery.js';
import { InjectClock } from '../resilient-llm.constants.js';
import { type IdempotencyStore, RESILIENT_LLM_IDEMPOTENCY_STORE } from '../idempotency/idempotency-store.interface.js';
import type { Clock } from '../time/clock.interface.js';

const PURGE_EVERY_MS = 10 * 60_000;

/** Deletes expired idempotency records now and then (a repeat of an expired key also clears its own). */
@Injectable()
export class IdempotencyPurger implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('IdempotencyPurger');
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly discovery: HandlerDiscovery,
    @Inject(RESILIENT_LLM_IDEMPOTENCY_STORE) private readonly store: IdempotencyStore,
    @InjectClock() private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.discovery.usesIdempotency) return;
    this.timer = setInterval(() => void this.purge(), PURGE_EVERY_MS);
    this.timer.unref();
  }

  async purge(): Promise<number> {
    try {
      return await this.store.purgeExpired(this.clock.now());
    } catch (error) {
      this.logger.warn(`Purging expired idempotency records failed: ${(error as Error).message}`);
      return 0;
    }
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }
}
