import { CircuitOpenException } from './circuit-open.exception.js';
import { ShuttingDownException } from '../errors/shutting-down.exception.js';
import { type Timers, systemTimers } from '../time/timers.js';
import type { CircuitBreaker, CircuitState } from './circuit-breaker.js';
import type { OpenCircuitSettings } from './open-circuit-options.js';

/** A request let through the circuit: `probe` if it tests a half-open circuit (report its outcome as such); `heldMs` it waited. */
export interface CircuitPass {
  probe: boolean;
  heldMs: number;
}

// Fine enough that a ramp of a second has a hundred steps; a step with nothing due costs one comparison.
const RAMP_STEP_MS = 10;
// Longer delays make Node fire a timer at once: such a wait is left to the caller's own deadline.
const MAX_TIMER_MS = 2_147_483_647;
const FREE_PASS: Promise<CircuitPass> = Promise.resolve(Object.freeze({ probe: false, heldMs: 0 }));

interface Waiter {
  enqueuedAt: number;
  deadlineAt: number;
  grant(pass: CircuitPass): void;
  refuse(error: unknown): void;
}

/**
 * Holds requests, not the upstream, while one breaker's circuit is open. Closed with nobody
 * waiting: requests pass at once. Open: they wait in a bounded FIFO queue, within their own
 * deadline; when the open period ends the first becomes the half-open probe. Its success
 * closes the circuit and the waiters go through at a ramp over `releaseRampMs`, so that
 * recovery brings no new storm; its failure reopens it and the waiters keep waiting.
 * Changes the breaker adopts from other replicas move the gate the same way.
 */
export class CircuitGate {
  private readonly queue: Waiter[] = [];
  private wakeTimer: unknown;
  private wakeAt = 0;
  private rampTimer: unknown;
  private ramp: { startedAt: number; total: number; released: number } | undefined;
  private draining = false;
  private drainAgain = false;
  private closedWith: unknown;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly breaker: CircuitBreaker,
    private readonly settings: OpenCircuitSettings,
    /** The models named in a refusal's message. */
    private readonly models: string[],
    private readonly time: Timers = systemTimers(),
  ) {
    this.unsubscribe = breaker.listen({
      onTransition: (_from, to) => this.onTransition(to),
      onProbeReturned: () => this.drain(),
    });
  }

  /** Requests waiting now. */
  get waiting(): number {
    return this.queue.length;
  }

  /** A request would pass at once, as no probe: the circuit is closed and nobody waits. */
  get passesFreely(): boolean {
    return this.queue.length === 0 && this.breaker.state === 'closed';
  }

  pass(options: { signal?: AbortSignal | (() => AbortSignal | undefined); maxWaitMs: number }): Promise<CircuitPass> {
    // The hot path: one comparison and a shared settled promise.
    if (this.passesFreely) return FREE_PASS;
    // A signal made on demand (only a request that may wait needs one).
    const signal = typeof options.signal === 'function' ? options.signal() : options.signal;
    return this.passOrWait(signal, options.maxWaitMs);
  }

  /** Shutdown: refuses every waiter (and every later one) with `reason`, and stops the timers. */
  close(reason: unknown = new ShuttingDownException()): void {
    this.closedWith = reason;
    this.unsubscribe();
    this.stopTimers();
    for (const waiter of this.queue.splice(0)) waiter.refuse(reason);
  }

  private passOrWait(signal: AbortSignal | undefined, maxWaitMs: number): Promise<CircuitPass> {
    const now = this.time.now();
    if (this.queue.length === 0 || this.settings.whenOpen === 'fail') {
      const admission = this.breaker.admit(now);
      if (admission.allowed) return Promise.resolve({ probe: admission.probe, heldMs: 0 });
      if (this.settings.whenOpen === 'fail') return Promise.reject(this.refusal(admission.retryAfterMs));
    }
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith);
    if (this.queue.length >= this.settings.maxWaiting) return Promise.reject(this.refusal(this.retryAfterMs(now)));
    const untilProbe = this.breaker.waitMs(now);
    if (maxWaitMs <= 0 || maxWaitMs < untilProbe) return Promise.reject(this.refusal(untilProbe));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<CircuitPass>((resolve, reject) => {
      this.enqueue(now, maxWaitMs, signal, resolve, reject);
      this.drain();
    });
  }

  private enqueue(now: number, maxWaitMs: number, signal: AbortSignal | undefined, resolve: (pass: CircuitPass) => void, reject: (error: unknown) => void): void {
    const onAbort = () => this.leave(waiter, signal?.reason);
    const timer = maxWaitMs <= MAX_TIMER_MS ? this.time.setTimeout(() => this.leave(waiter, this.refusal(this.retryAfterMs(this.time.now()))), Math.max(0, maxWaitMs)) : undefined;
    const cleanup = () => {
      if (timer !== undefined) this.time.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const waiter: Waiter = {
      enqueuedAt: now,
      deadlineAt: now + maxWaitMs,
      grant: (pass) => {
        cleanup();
        resolve(pass);
      },
      refuse: (error) => {
        cleanup();
        reject(error);
      },
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    this.queue.push(waiter);
  }

  private leave(waiter: Waiter, error: unknown): void {
    const index = this.queue.indexOf(waiter);
    if (index === -1) return;
    this.queue.splice(index, 1);
    waiter.refuse(error);
    if (this.queue.length === 0) this.stopTimers();
  }

  private onTransition(to: CircuitState): void {
    if (to === 'open') this.refuseUnreachable(this.time.now());
    this.drain();
  }

  /** Reopened: a waiter whose deadline comes before the next probe cannot be served, so it hears so now. */
  private refuseUnreachable(now: number): void {
    const nextProbeAt = now + this.breaker.waitMs(now);
    for (const waiter of this.queue.filter((candidate) => candidate.deadlineAt < nextProbeAt)) this.leave(waiter, this.refusal(nextProbeAt - now));
  }

  // A breaker's admission can move it (open to half-open) and call back into the gate: such calls run after this pass.
  private drain(): void {
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    this.draining = true;
    try {
      do {
        this.drainAgain = false;
        this.drainOnce(this.time.now());
      } while (this.drainAgain);
    } finally {
      this.draining = false;
    }
  }

  private drainOnce(now: number): void {
    if (this.queue.length === 0) return this.stopTimers();
    if (this.breaker.state === 'closed') return this.releaseByRamp(now);
    this.stopRamp();
    const untilProbe = this.breaker.waitMs(now);
    if (untilProbe > 0) return this.wakeIn(now, untilProbe);
    this.stopWake();
    while (this.queue.length > 0) {
      const admission = this.breaker.admit(now);
      if (!admission.allowed) return;
      // Half-open here, so each one let through is a probe, until the probe slots are taken.
      this.grantHead(now, admission.probe);
    }
  }

  /** Closed with a backlog: by `t` ms after closing at most ceil(total * t / releaseRampMs) go (at least the probe count), in order; the rest once the ramp is over. */
  private releaseByRamp(now: number): void {
    this.stopWake();
    const ramp = (this.ramp ??= { startedAt: now, total: this.queue.length, released: 0 });
    const elapsed = now - ramp.startedAt;
    const rampMs = this.settings.releaseRampMs;
    const allowed = elapsed >= rampMs ? Number.POSITIVE_INFINITY : Math.max(this.breaker.settings.halfOpenProbes, Math.ceil((ramp.total * elapsed) / rampMs));
    while (this.queue.length > 0 && ramp.released < allowed) {
      this.grantHead(now, false);
      ramp.released++;
    }
    if (this.queue.length === 0) return this.stopTimers();
    if (this.rampTimer === undefined) {
      this.rampTimer = this.time.setTimeout(() => {
        this.rampTimer = undefined;
        this.drain();
      }, Math.min(RAMP_STEP_MS, rampMs - elapsed));
    }
  }

  private grantHead(now: number, probe: boolean): void {
    const waiter = this.queue.shift() as Waiter;
    waiter.grant({ probe, heldMs: now - waiter.enqueuedAt });
  }

  private wakeIn(now: number, ms: number): void {
    if (this.wakeTimer !== undefined && this.wakeAt === now + ms) return;
    this.stopWake();
    this.wakeAt = now + ms;
    this.wakeTimer = this.time.setTimeout(() => {
      this.wakeTimer = undefined;
      this.drain();
    }, ms);
  }

  private retryAfterMs(now: number): number {
    const state = this.breaker.state;
    if (state === 'open') return this.breaker.waitMs(now);
    if (state === 'half_open') return this.breaker.settings.openMs;
    return this.ramp ? this.settings.releaseRampMs - (now - this.ramp.startedAt) : 0;
  }

  private refusal(retryAfterMs: number): CircuitOpenException {
    return new CircuitOpenException(this.models, Math.max(1, retryAfterMs));
  }

  private stopTimers(): void {
    this.stopWake();
    this.stopRamp();
  }

  private stopWake(): void {
    if (this.wakeTimer !== undefined) this.time.clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
  }

  private stopRamp(): void {
    if (this.rampTimer !== undefined) this.time.clearTimeout(this.rampTimer);
    this.rampTimer = undefined;
    this.ramp = undefined;
  }
}
