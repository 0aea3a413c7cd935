import { Injectable } from '@nestjs/common';
import type { FailureClassification } from '../backoff/error-classifier.js';
import { CircuitOpenException } from '../errors/circuit-open.exception.js';
import type { ResolvedResilientLlmOptions } from '../module/resilient-llm-options.interface.js';
import { InjectClock, InjectResilientLlmOptions } from '../resilient-llm.constants.js';
import { ResilientLlmTelemetry } from '../telemetry/resilient-llm.telemetry.js';
import type { Clock } from '../time/clock.interface.js';
import { Bulkhead } from './bulkhead.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { RetryBudget } from './retry-budget.js';

// Failures that say the upstream is unwell; a 4xx or a rate limit is an answer, not an outage.
const UNHEALTHY = new Set<FailureClassification['kind']>(['server_error', 'timeout', 'connection']);
// Outcomes that say nothing about the upstream at all.
const NEUTRAL = new Set<FailureClassification['kind']>(['aborted', 'application']);

export interface UpstreamTicket {
  model: string;
  probe: boolean;
}

/** One upstream request let through: report its outcome once, free its slot once it is done (a stream: once read). */
export interface UpstreamPass {
  report(failure?: FailureClassification): void;
  release(): void;
}

/**
 * What keeps a dependency outage from multiplying load, across all calls of this process:
 * a retry budget per upstream (or model), a circuit breaker per upstream model, a
 * concurrency limit per model, and the fallback models to use when a circuit is open.
 */
@Injectable()
export class StormControl {
  private readonly budgets = new Map<string, RetryBudget>();
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly bulkheads = new Map<string, Bulkhead | null>();
  private readonly upstream: string;

  constructor(
    @InjectResilientLlmOptions() private readonly options: ResolvedResilientLlmOptions,
    @InjectClock() private readonly clock: Clock,
    private readonly telemetry: ResilientLlmTelemetry,
  ) {
    this.upstream = options.client.baseURL ?? 'https://api.openai.com/v1';
  }

  /**
   * The model a call runs on: the requested one unless its circuit is open, else the first
   * fallback whose circuit is not. All open: 503, before any budget is reserved.
   */
  chooseModel(model: string): string {
    const candidates = [model, ...(this.options.stormControl.fallbacks[model] ?? [])];
    let soonest = Number.POSITIVE_INFINITY;
    for (const candidate of candidates) {
      const wait = this.breaker(candidate)?.waitMs(this.clock.now()) ?? 0;
      if (wait === 0) return candidate;
      soonest = Math.min(soonest, wait);
    }
    throw new CircuitOpenException(candidates, soonest);
  }

  /** The cheaper model for a call in strict mode, if one is configured. */
  strictModel(model: string): string {
    return this.options.budget.fallbackModel ?? this.options.stormControl.fallbacks[model]?.[0] ?? model;
  }

  /** Before each upstream request: passes, or throws 503 while the model's circuit is open. */
  admit(model: string): UpstreamTicket {
    const admission = this.breaker(model)?.admit(this.clock.now()) ?? { allowed: true as const, probe: false };
    if (!admission.allowed) throw new CircuitOpenException([model], admission.retryAfterMs);
    return { model, probe: admission.probe };
  }

  /** After each upstream request: its outcome, for the circuit. */
  report(ticket: UpstreamTicket, failure?: FailureClassification): void {
    const breaker = this.breaker(ticket.model);
    if (!breaker) return;
    if (failure && UNHEALTHY.has(failure.kind)) breaker.onFailure(ticket.probe, this.clock.now());
    else if (failure && NEUTRAL.has(failure.kind)) breaker.onNeutral(ticket.probe);
    else breaker.onSuccess(ticket.probe, this.clock.now());
  }

  /** A slot to send a request to `model` (a queue when the model has a limit); call the returned function when done. */
  acquire(model: string, strict: boolean, signal?: AbortSignal, maxWaitMs?: number): Promise<() => void> {
    const bulkhead = this.bulkhead(model);
    return bulkhead ? bulkhead.acquire(strict, signal, maxWaitMs) : Promise.resolve(() => undefined);
  }

  /**
   * Slot, then circuit, for one upstream request. The slot comes first, so that a request
   * refused by the queue never holds a half-open probe.
   */
  async enter(model: string, strict: boolean, signal?: AbortSignal, maxWaitMs?: number): Promise<UpstreamPass> {
    const free = await this.acquire(model, strict, signal, maxWaitMs);
    let ticket: UpstreamTicket;
    try {
      ticket = this.admit(model);
    } catch (error) {
      free();
      throw error;
    }
    let reported = false;
    let released = false;
    return {
      report: (failure) => {
        if (reported) return;
        reported = true;
        this.report(ticket, failure);
      },
      release: () => {
        if (released) return;
        released = true;
        free();
      },
    };
  }

  /** The retry budget a call on `model` draws on; none when the budget is off. */
  retryBudget(model: string): RetryBudget | undefined {
    const settings = this.options.stormControl.retryBudget;
    if (!settings) return undefined;
    const key = settings.perModel ? `${this.upstream}|${model}` : this.upstream;
    let budget = this.budgets.get(key);
    if (!budget) {
      budget = new RetryBudget(settings);
      this.budgets.set(key, budget);
    }
    return budget;
  }

  /** Closes every circuit and refills every retry budget (an operator's reset, or between tests). */
  reset(): void {
    for (const breaker of this.breakers.values()) breaker.reset();
    for (const budget of this.budgets.values()) budget.reset();
  }

  private breaker(model: string): CircuitBreaker | undefined {
    const settings = this.options.stormControl.circuitBreaker;
    if (!settings) return undefined;
    const key = `${this.upstream}|${model}`;
    let breaker = this.breakers.get(key);
    if (!breaker) {
      breaker = new CircuitBreaker(settings, (from, to) => this.telemetry.circuitTransition(model, from, to));
      this.breakers.set(key, breaker);
    }
    return breaker;
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
}
