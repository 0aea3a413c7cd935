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

/** A breaker's state as plain JSON, to store (Redis, a file) and to start another breaker from. */
export interface CircuitSnapshot {
  state: CircuitState;
  /** When it last opened, epoch milliseconds (0: never). It half-opens `openMs` later. */
  openedAt: number;
  /** Failures in a row (the `consecutive` mode). */
  consecutiveFailures: number;
  /** Outcomes still inside the window (the `rate` mode), oldest first; `at` in epoch milliseconds. */
  outcomes: Array<{ at: number; ok: boolean }>;
}

/** `remote`: the change was adopted from another replica's snapshot, so a listener that publishes changes must not echo it. */
export interface TransitionInfo {
  remote: boolean;
}

export type TransitionListener = (from: CircuitState, to: CircuitState, info: TransitionInfo) => void;

export interface CircuitListener {
  onTransition?: TransitionListener;
  /** A half-open probe ended without a verdict (the caller aborted): its slot is free for another request. */
  onProbeReturned?: () => void;
}

export interface CircuitBreakerOptions {
  /** Start from a stored state (a restart, or a replica joining a fleet-wide circuit) instead of closed. */
  initialState?: CircuitSnapshot;
}

/**
 * A circuit breaker for one upstream (and model). Closed: requests pass and outcomes are
 * counted. Open: requests fail fast until `openMs` has passed. Half-open: at most
 * `halfOpenProbes` requests test the upstream; a success closes it, a failure reopens it.
 */
export class CircuitBreaker {
  private current: CircuitState = 'closed';
  private openedAt = 0;
  // On our clock: a remote `openedAt` may be stamped by a clock ahead of ours.
  private halfOpensAt = 0;
  private consecutive = 0;
  private outcomes: Array<{ at: number; ok: boolean }> = [];
  private probes = 0;
  private readonly listeners = new Set<CircuitListener>();

  constructor(
    readonly settings: CircuitBreakerSettings,
    onTransition?: TransitionListener,
    options: CircuitBreakerOptions = {},
  ) {
    if (onTransition) this.listeners.add({ onTransition });
    if (options.initialState) this.restore(options.initialState);
  }

  get state(): CircuitState {
    return this.current;
  }

  /** Follows transitions (and returned probe slots) besides the constructor's `onTransition`; returns the unsubscribe. */
  listen(listener: CircuitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** How long calls must still wait (0: they may try now), without taking a probe slot. */
  waitMs(nowMs: number): number {
    if (this.current !== 'open') return 0;
    return Math.max(0, this.halfOpensAt - nowMs);
  }

  admit(nowMs: number): Admission {
    if (this.current === 'open') {
      if (nowMs < this.halfOpensAt) return { allowed: false, retryAfterMs: this.halfOpensAt - nowMs };
      this.probes = 0;
      this.moveTo('half_open', false);
    }
    if (this.current === 'half_open') {
      if (this.probes >= this.settings.halfOpenProbes) return { allowed: false, retryAfterMs: Math.max(1, this.settings.openMs) };
      this.probes++;
      return { allowed: true, probe: true };
    }
    return { allowed: true, probe: false };
  }

  onSuccess(probe: boolean, nowMs: number): void {
    if (probe && this.current === 'half_open') return this.close(false);
    this.consecutive = 0;
    this.record(true, nowMs);
  }

  onFailure(probe: boolean, nowMs: number): void {
    if (probe && this.current === 'half_open') return this.open(nowMs, false);
    if (this.current !== 'closed') return;
    this.consecutive++;
    this.record(false, nowMs);
    if (this.tripped()) this.open(nowMs, false);
  }

  /** An outcome that says nothing of the upstream's health (the caller aborted): a probe's slot is handed back. */
  onNeutral(probe: boolean): void {
    if (!probe || this.current !== 'half_open' || this.probes === 0) return;
    this.probes--;
    for (const listener of [...this.listeners]) listener.onProbeReturned?.();
  }

  reset(): void {
    this.close(false);
    this.probes = 0;
  }

  toJSON(): CircuitSnapshot {
    return { state: this.current, openedAt: this.openedAt, consecutiveFailures: this.consecutive, outcomes: this.outcomes.map((outcome) => ({ ...outcome })) };
  }

  /**
   * Takes over a state another replica decided (it opened the circuit, or its probe closed it).
   * Listeners hear `{ remote: true }`. A snapshot from an older open period than ours is
   * stale and ignored. An `openedAt` ahead of `nowMs` (a replica's clock ahead of ours) half-opens
   * `openMs` after `nowMs`, so that skew cannot hold our circuit open longer.
   */
  adopt(snapshot: Pick<CircuitSnapshot, 'state' | 'openedAt'>, nowMs: number): void {
    const openedAt = snapshot.openedAt;
    if (snapshot.state === 'closed') {
      if (this.current !== 'closed' && openedAt >= this.openedAt) this.close(true);
      return;
    }
    // An opening we know already (or one older than our last): nothing new.
    if (openedAt <= this.openedAt) return;
    // Open here too: a later opening (a remote probe failed) only moves our next probe later.
    if (this.current === 'open') this.stampOpening(openedAt, nowMs);
    else this.open(nowMs, true, openedAt);
  }

  private restore(snapshot: CircuitSnapshot): void {
    this.current = snapshot.state;
    this.stampOpening(snapshot.openedAt, snapshot.openedAt);
    this.consecutive = snapshot.consecutiveFailures;
    this.outcomes = snapshot.outcomes.map((outcome) => ({ ...outcome }));
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

  private open(nowMs: number, remote: boolean, openedAt = nowMs): void {
    this.stampOpening(openedAt, nowMs);
    this.probes = 0;
    this.moveTo('open', remote);
  }

  private stampOpening(openedAt: number, nowMs: number): void {
    this.openedAt = openedAt;
    this.halfOpensAt = Math.min(openedAt, nowMs) + this.settings.openMs;
  }

  private close(remote: boolean): void {
    this.consecutive = 0;
    this.outcomes = [];
    this.moveTo('closed', remote);
  }

  private moveTo(state: CircuitState, remote: boolean): void {
    const from = this.current;
    this.current = state;
    if (from === state) return;
    // A copy: a listener may unsubscribe while it is told.
    for (const listener of [...this.listeners]) listener.onTransition?.(from, state, { remote });
  }
}
