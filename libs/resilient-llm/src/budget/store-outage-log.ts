import type { Logger } from '@nestjs/common';

/**
 * One log line when the budget store starts failing and one when it answers again: an outage
 * under load is thousands of failed calls, and each of them logging would bury the first.
 */
export class StoreOutageLog {
  private failures = 0;

  constructor(private readonly logger: Logger) {}

  failed(what: string, error: unknown): void {
    if (this.failures++ > 0) return;
    this.logger.error(`${what}: ${(error as Error)?.message ?? String(error)}`);
  }

  recovered(): void {
    if (this.failures === 0) return;
    this.logger.log(`The budget store answers again; ${this.failures} store operation(s) failed while it did not`);
    this.failures = 0;
  }
}
