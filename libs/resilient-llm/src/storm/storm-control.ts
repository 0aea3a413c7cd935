import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { FailureClassification } from '../backoff/error-classifier.js';
import { CircuitOpenException } from './circuit-open.exception.js';
import { InjectClock, InjectStormSettings } from '../resilient-llm.constants.js';
import type { Clock } from '../time/clock.interface.js';
import { systemTimers } from '../time/timers.js';
import { Bulkhead } from './bulkhead.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { CircuitGate, type CircuitPass } from './circuit-gate.js';
import { isRateLimitWaitExceededError } from './pacing/rate-limit-wait-exceeded.error.js';
import { RateLimitQueueException } from './pacing/rate-limit-queue.exception.js';
import { readRateLimits, readRetryAfterMs } from './pacing/rate-limit-headers.js';
import { RatePacer } from './pacing/rate-pacer.js';
import { FleetSharing } from './fleet/fleet-sharing.js';
import { RetryBudget, type RetryAllowance } from './retry-budget.js';
import type { StormSettings } from './storm-options.interface.js';
import { type CircuitTransitionListener, type UpstreamPass, upstreamPass } from './upstream-pass.js';

export type { CircuitTransition, CircuitTransitionListener, UpstreamPass } from './upstream-pass.js';

interface Circuit {
  breaker: CircuitBreaker;
  gate: CircuitGate;
}

const NO_CIRCUIT: CircuitPass = Object.freeze({ probe: false, heldMs: 0 });
const NO_SLOT = () => undefined;

/**
 * What keeps a dependency outage or a provider's rate limit from multiplying load, across all
 * calls of this process: a retry budget per upstream (or model), a circuit per upstream model
 * (requests wait while it is open, or fail fast), pacing to the provider's rate limits, a
 * concurrency limit per model, and the fallback models to use when a circuit is open.
 */
@Injectable()
export class StormControl implements OnApplicationShutdown {
  private readonly budgets = new Map<string, RetryAllowance>();
  private readonly circuits = new Map<string, Circuit>();
  private readonly bulkheads = new Map<string, Bulkhead | null>();
  private readonly pacers = new Map<string, RatePacer>();
  private readonly transitionListeners = new Set<CircuitTransitionListener>();
  private readonly keys = new Map<string, string>();
  private readonly upstream: string;
  private readonly fleet?: FleetSharing;

  constructor(
    @InjectStormSettings() private readonly options: StormSettings,
    @InjectClock() private readonly clock: Clock,
  ) {
    this.upstream = options.client.baseURL ?? 'https://api.openai.com/v1';
    const fleet = options.stormControl.fleet;
    if (fleet) this.fleet = new FleetSharing(fleet, clock, (key) => this.circuitByKey(key)?.breaker);
  }

  /**
   * The model a call runs on: the requested one unless its circuit is open, else the first
   * fallback whose circuit is not. All open: the requested one, to wait for (or, with
   * `whenOpen: 'fail'`, 503 before any budget is reserved).
   */
  chooseModel(model: string): string {
    // The common case, without building the list of candidates.
    if (!this.circuit(model)?.breaker.waitMs(this.clock.now())) return model;
    const candidates = [model, ...(this.options.stormControl.fallbacks[model] ?? [])];
    let soonest = Number.POSITIVE_INFINITY;
    for (const candidate of candidates) {
      const wait = this.circuit(candidate)?.breaker.waitMs(this.clock.now()) ?? 0;
      if (wait === 0) return candidate;
      soonest = Math.min(soonest, wait);
    }
    if (this.options.stormControl.openCircuit.whenOpen === 'wait') return model;
    throw new CircuitOpenException(candidates, soonest);
  }

  /** The cheaper model for a call in strict mode, if one is configured. */
  strictModel(model: string): string {
    return this.options.budget.fallbackModel ?? this.options.stormControl.fallbacks[model]?.[0] ?? model;
  }

  /**
   * Circuit, then pacing, then a concurrency slot, for one upstream request, each waited for
   * within `maxWaitMs`. The circuit comes first so that a request held by an open circuit holds
   * no slot; a probe refused further on hands its role back. `tokens` (prompt plus output cap,
   * as providers count them for rate limits) is counted only once a rate limit is known.
   */
  async enter(model: string, strict: boolean, waitSignal: () => AbortSignal | undefined, maxWaitMs: number, tokens: () => number): Promise<UpstreamPass> {
    const circuit = this.circuit(model);
    const circuitPass = circuit ? await circuit.gate.pass({ signal: waitSignal, maxWaitMs }) : NO_CIRCUIT;
    const startedAt = this.clock.now();
    let pacedMs = 0;
    let free: () => void;
    try {
      const pacer = this.pacers.get(this.key(model));
      if (pacer) pacedMs = (await pacer.acquire({ tokens: tokens() }, { signal: waitSignal(), maxWaitMs: maxWaitMs - circuitPass.heldMs })).waitedMs;
      free = await this.acquire(model, strict, waitSignal, maxWaitMs - circuitPass.heldMs - (this.clock.now() - startedAt));
    } catch (error) {
      circuit?.breaker.onNeutral(circuitPass.probe);
      throw isRateLimitWaitExceededError(error) ? new RateLimitQueueException(model, error) : error;
    }
    return this.passFor(model, circuitPass, pacedMs, free);
  }

  /**
   * The pass of a request that need not wait for anything (its circuit closed with nobody
   * waiting, no rate limit learnt, a free slot), taken at once; undefined when it may have to
   * wait, for `enter`. Spares the common request the promises of `enter`.
   */
  passNow(model: string, strict: boolean): UpstreamPass | undefined {
    const circuit = this.circuit(model);
    if ((circuit && !circuit.gate.passesFreely) || this.pacers.has(this.key(model))) return undefined;
    const bulkhead = this.bulkhead(model);
    const free = bulkhead ? bulkhead.tryAcquire(strict) : NO_SLOT;
    return free && this.passFor(model, NO_CIRCUIT, 0, free);
  }

  private passFor(model: string, circuitPass: CircuitPass, pacedMs: number, release: () => void): UpstreamPass {
    return upstreamPass({
      heldMs: circuitPass.heldMs,
      pacedMs,
      report: (failure) => this.report(model, circuitPass.probe, failure),
      observe: (headers, rateLimited) => this.observeRateLimits(model, headers, rateLimited),
      release,
    });
  }

  /** A slot to send a request to `model` (a queue when the model has a limit); call the returned function when done. */
  private acquire(model: string, strict: boolean, waitSignal: () => AbortSignal | undefined, maxWaitMs?: number): Promise<() => void> {
    const bulkhead = this.bulkhead(model);
    return bulkhead ? bulkhead.acquire(strict, waitSignal(), maxWaitMs) : Promise.resolve(() => undefined);
  }

  /** The retry budget a call on `model` draws on; none when the budget is off. */
  retryBudget(model: string): RetryAllowance | undefined {
    const settings = this.options.stormControl.retryBudget;
    if (!settings) return undefined;
    const key = settings.perModel ? this.key(model) : this.upstream;
    let budget = this.budgets.get(key);
    if (!budget) {
      budget = this.fleet ? this.fleet.retryBudget(key, settings) : new RetryBudget(settings);
      this.budgets.set(key, budget);
    }
    return budget;
  }

  /** Follows every circuit's changes (this replica's, and with fleet state other replicas'); returns the unsubscribe. */
  onCircuitTransition(listener: CircuitTransitionListener): () => void {
    this.transitionListeners.add(listener);
    return () => this.transitionListeners.delete(listener);
  }

  /** Closes every circuit, refills every retry budget and forgets the rate limits learnt (an operator's reset, or between tests). */
  reset(): void {
    for (const { breaker } of this.circuits.values()) breaker.reset();
    for (const budget of this.budgets.values()) budget.reset();
    this.pacers.clear();
  }

  /** Requests still waiting for a circuit are refused (503, the app is shutting down); the fleet link pushes what it holds and closes. */
  async onApplicationShutdown(): Promise<void> {
    for (const { gate } of this.circuits.values()) gate.close();
    await this.fleet?.close();
  }

  /** After each upstream request: its outcome, for the circuit. A timeout the app caused itself says nothing of the upstream. */
  private report(model: string, probe: boolean, failure?: FailureClassification): void {
    const breaker = this.circuits.get(this.key(model))?.breaker;
    if (!breaker) return;
    if (failure && (NEUTRAL.has(failure.kind) || failure.localStallMs !== undefined)) breaker.onNeutral(probe);
    else if (failure && UNHEALTHY.has(failure.kind)) breaker.onFailure(probe, this.clock.now());
    else breaker.onSuccess(probe, this.clock.now());
  }

  /** What an answer's headers say of the provider's rate limits; a pacer exists from the first answer that says anything. */
  private observeRateLimits(model: string, headers: Headers, rateLimited: boolean): void {
    const settings = this.options.stormControl.pacing;
    if (!settings) return;
    const reading = readRateLimits(headers);
    if (!reading && !rateLimited) return;
    const key = this.key(model);
    let pacer = this.pacers.get(key);
    if (!pacer) {
      pacer = new RatePacer(key, settings, { buckets: this.fleet?.rateBuckets(key, settings) });
      this.pacers.set(key, pacer);
    }
    const retryAfterMs = rateLimited ? readRetryAfterMs(headers, Date.now()) : undefined;
    // Only a store shared with other replicas can fail here; pacing then carries on with what it knew.
    pacer.observe(reading, rateLimited ? 429 : 200, retryAfterMs).catch(() => undefined);
  }

  private circuit(model: string): Circuit | undefined {
    const settings = this.options.stormControl.circuitBreaker;
    if (!settings) return undefined;
    const key = this.key(model);
    let circuit = this.circuits.get(key);
    if (!circuit) {
      const breaker = new CircuitBreaker(settings, (from, to, info) => {
        if (!info.remote) this.fleet?.published(key, to);
        const event = { model, from, to, atMs: this.clock.now(), remote: info.remote };
        for (const listener of this.transitionListeners) listener(event);
      });
      circuit = { breaker, gate: new CircuitGate(breaker, this.options.stormControl.openCircuit, [model], systemTimers(this.clock)) };
      this.circuits.set(key, circuit);
      this.fleet?.follow(key, breaker);
    }
    return circuit;
  }

  /** A circuit another replica changed, by its fleet key: made here too, so that this replica's next request sees it. */
  private circuitByKey(key: string): Circuit | undefined {
    const prefix = `${this.upstream}|`;
    return key.startsWith(prefix) ? this.circuit(key.slice(prefix.length)) : undefined;
  }

  private bulkhead(model: string): Bulkhead | null {
    const settings = this.options.stormControl.concurrency;
    if (!settings) return null;
    let bulkhead = this.bulkheads.get(model);
    if (bulkhead === undefined) {
      const limit = settings.perModel[model] ?? settings.limit;
      bulkhead = limit === undefined ? null : new Bulkhead(limit, Math.max(1, Math.floor(limit * settings.strictFactor)), settings.maxQueue, settings.queueTimeoutMs, model);
      this.bulkheads.set(model, bulkhead);
    }
    return bulkhead;
  }

  /** Kept per model: a key built anew on every request is a new string to flatten and hash at each lookup. */
  private key(model: string): string {
    let key = this.keys.get(model);
    if (key === undefined) {
      if (this.keys.size >= 1_000) this.keys.clear();
      key = `${this.upstream}|${model}`;
      this.keys.set(model, key);
    }
    return key;
  }
}

// Failures that say the upstream is unwell; a 4xx or a rate limit is an answer, not an outage.
const UNHEALTHY = new Set<FailureClassification['kind']>(['server_error', 'timeout', 'connection']);
// Outcomes that say nothing about the upstream at all.
const NEUTRAL = new Set<FailureClassification['kind']>(['aborted', 'application']);
