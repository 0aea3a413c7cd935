/** Where the link reports that Redis went away and came back; Nest's `Logger` fits. */
export interface FleetLogger {
  warn(message: string): void;
  log(message: string): void;
}

/**
 * One line when Redis starts failing and one when it answers again: during an outage every
 * request falls back to local state, and a line per request would bury the first one.
 */
export class FleetOutageLog {
  private failures = 0;

  constructor(private readonly logger: FleetLogger) {}

  get failing(): boolean {
    return this.failures > 0;
  }

  failed(what: string, error: unknown): void {
    if (this.failures++ > 0) return;
    const reason = error instanceof Error ? error.message : String(error);
    this.logger.warn(`Fleet-wide storm state unavailable, using this process's own until Redis answers again (${what}: ${reason})`);
  }

  recovered(): void {
    if (this.failures === 0) return;
    this.logger.log(`Redis answers again; fleet-wide storm state resumed after ${this.failures} failed operation(s)`);
    this.failures = 0;
  }
}
