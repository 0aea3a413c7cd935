import type { Logger } from '@nestjs/common';

/** The guard's background steps (deferred writes, ended leases, forgotten windows) on a timer, one run at a time. */
export class BudgetMaintenance {
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly steps: () => Promise<void>,
    private readonly logger: Logger,
  ) {}

  start(everyMs: number): void {
    this.timer = setInterval(() => void this.run(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.steps();
    } catch (error) {
      this.logger.warn(`Budget maintenance failed: ${(error as Error).message}`);
    } finally {
      this.running = false;
    }
  }
}
