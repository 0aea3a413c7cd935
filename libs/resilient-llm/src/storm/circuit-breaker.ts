export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerSettings {
  /**
   * `rate` (default): open when failures reach `failureRate` of the outcomes of the last
   * `windowMs`, once there are `minimumCalls` of them; robust when concurrent failures land
   * together. `consecutive`: open after `consecutiveFailures` failures in a row.
   */
  mode: 'consecutive' | 'rate';
  consecutiveFailures: number;
  failureRate: number;
  /** The rolling window of the `rate` mode, in milliseconds. */
  windowMs: number;
  minimumCalls: number;
  /** How long it stays open before letting probes through, in milliseconds. */
  openMs: number;
  /** Requests let through at once while half-open; their outcome closes or reopens it. */
  halfOpenProbes: number;
}

export type Admission = { allowed: true; probe: boolean } | { allowed: false; retryAfterMs: number };

/**
 * A circuit breaker for one upstream (and model). Closed: requests pass and outcomes are
 * counted. Open: requests fail fast until `openMs` has passed. Half-open: at most
 * `halfOpenProbes` requests test the upstream; a success closes it, a failure reopens it.
 */
export class CircuitBreaker {
  private current: CircuitState = 'closed';
  private openedAt = 0;
  private consecutive = 0;
  private outcomes: Array<{ at: number; ok: boolean }> = [];
  private probes = 0;

  constructor(
    private readonly settings: CircuitBreakerSettings,
    private readonly onTransition: (from: CircuitState, to: CircuitState) => void = () => undefined,
  ) {}

  get state(): CircuitState {
    return this.current;
  }

  /** How long calls must still wait (0: they may try now), without taking a probe slot. */
  waitMs(nowMs: number): number {
    if (this.current !== 'open') return 0;
    return Math.max(0, this.settings.openMs - (nowMs - this.openedAt));
  }

  admit(nowMs: number): Admission {
    if (this.current === 'open') {
      const waited = nowMs - this.openedAt;
      if (waited < this.settings.openMs) return { allowed: false, retryAfterMs: this.settings.openMs - waited };
      this.moveTo('half_open');
      this.probes = 0;
    }
    if (this.current === 'half_open') {
      if (this.probes >= this.settings.halfOpenProbes) return { allowed: false, retryAfterMs: Math.max(1, this.settings.openMs) };
      this.probes++;
      return { allowed: true, probe: true };
    }
    return { allowed: true, probe: false };
  }

  onSuccess(probe: boolean, nowMs: number): void {
    if (probe && this.current === 'half_open') {
      this.moveTo('closed');
      this.consecutive = 0;
      this.outcomes = [];
      return;
    }
    this.consecutive = 0;
    this.record(true, nowMs);
  }

  onFailure(probe: boolean, nowMs: number): void {
    if (probe && this.current === 'half_open') return this.open(nowMs);
    if (this.current !== 'closed') return;
    this.consecutive++;
    this.record(false, nowMs);
    if (this.tripped()) this.open(nowMs);
  }

  /** An outcome that says nothing of the upstream's health (the caller aborted): a probe's slot is handed back. */
  onNeutral(probe: boolean): void {
    if (probe && this.current === 'half_open' && this.probes > 0) this.probes--;
  }

  reset(): void {
    if (this.current !== 'closed') this.moveTo('closed');
    this.consecutive = 0;
    this.outcomes = [];
    this.probes = 0;
  }

  private tripped(): boolean {
    if (this.settings.mode === 'consecutive') return this.consecutive >= this.settings.consecutiveFailures;
    if (this.outcomes.length < this.settings.minimumCalls) return false;
    const failures = this.outcomes.filter((outcome) => !outcome.ok).length;
    return failures / this.outcomes.length >= this.settings.failureRate;
  }

  private record(ok: boolean, nowMs: number): void {
    this.outcomes.push({ at: nowMs, ok });
    const oldest = nowMs - this.settings.windowMs;
    while (this.outcomes.length > 0 && this.outcomes[0].at <= oldest) this.outcomes.shift();
  }

  private open(nowMs: number): void {
    this.openedAt = nowMs;
    this.probes = 0;
    this.moveTo('open');
  }

  private moveTo(state: CircuitState): void {
    const from = this.current;
    this.current = state;
    if (from !== state) this.onTransition(from, state);
  }
}
