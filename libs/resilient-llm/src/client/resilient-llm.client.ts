import { Injectable } from '@nestjs/common';
import OpenAI from 'openai';
import { BudgetGuard } from '../budget/budget.guard.js';
import { ResilientLlmConfigurationError } from '../errors/resilient-llm-configuration.error.js';
import { type GuardedCall, currentGuardedCall } from '../guarded/guarded-call.context.js';
import { GuardedCallRunner } from '../guarded/guarded-call.runner.js';
import type { ResolvedResilientLlmOptions } from '../module/resilient-llm-options.interface.js';
import { LlmPricing } from '../pricing/llm-pricing.service.js';
import { InjectClock, InjectResilientLlmOptions } from '../resilient-llm.constants.js';
import { classifyFailure } from '../backoff/error-classifier.js';
import { StormControl } from '../storm/storm-control.js';
import { ResilientLlmTelemetry } from '../telemetry/resilient-llm.telemetry.js';
import type { Clock } from '../time/clock.interface.js';
import { settlingStream } from './settling-stream.js';
import { estimatePromptTokens, maxCompletionTokens, tokensOf } from './usage-estimate.js';
import { upstreamIdempotencyKey } from '../idempotency/idempotency-key.js';

/** The SDK sends `idempotencyKey` only when its client class names a header for it. */
class OpenAIWithIdempotencyKey extends OpenAI {
  protected override idempotencyHeader = 'Idempotency-Key';
}

type WithOptionalModel<T extends { model: unknown }> = Omit<T, 'model'> & { model?: string };
export type ChatRequest = WithOptionalModel<OpenAI.Chat.ChatCompletionCreateParamsNonStreaming>;
export type ChatStreamRequest = WithOptionalModel<Omit<OpenAI.Chat.ChatCompletionCreateParamsStreaming, 'stream'>>;

export interface LlmRequestOptions {
  /** Cancels the call, its retries and its backoff sleeps. */
  signal?: AbortSignal;
  /** This call's attempt timeout, in milliseconds, instead of `client.attemptTimeoutMs`. */
  attemptTimeoutMs?: number;
  /** Scope key for per-scope budgets, for a call made outside a guarded handler. */
  scopeKey?: string;
}

/** Completion tokens assumed for a call outside a guarded handler that sets no max_tokens. */
const DEFAULT_COMPLETION_ESTIMATE = 1_024;

/**
 * The `openai` SDK with its own retries off (`maxRetries: 0`): every attempt goes through
 * `BackoffPolicy`. Inside a `@Guarded` handler a call makes exactly one attempt (the handler
 * is what gets retried); outside one, the client runs a guarded call of its own. Either way
 * each completion's usage is recorded against the call, and the budget is checked before
 * every request.
 */
@Injectable()
export class ResilientLlmClient {
  private sdk?: OpenAI;

  constructor(
    @InjectResilientLlmOptions() private readonly options: ResolvedResilientLlmOptions,
    private readonly runner: GuardedCallRunner,
    private readonly pricing: LlmPricing,
    private readonly budget: BudgetGuard,
    @InjectClock() private readonly clock: Clock,
    private readonly telemetry: ResilientLlmTelemetry,
    private readonly storm: StormControl,
  ) {}

  /** The underlying SDK client, for endpoints this wrapper does not cover. It never retries by itself. */
  get openai(): OpenAI {
    if (!this.sdk) {
      const { apiKey, baseURL, attemptTimeoutMs, defaultHeaders } = this.options.client;
      if (!apiKey) {
        throw new ResilientLlmConfigurationError('client.apiKey', 'is required before ResilientLlmClient can call the provider');
      }
      this.sdk = new OpenAIWithIdempotencyKey({ apiKey, baseURL, timeout: attemptTimeoutMs, maxRetries: 0, defaultHeaders });
    }
    return this.sdk;
  }

  async createChatCompletion(request: ChatRequest, options: LlmRequestOptions = {}): Promise<OpenAI.Chat.ChatCompletion> {
    return this.runner.run(this.callFor(request, options), async (call) => {
      const { model, worstCaseMicro } = await this.prepare(call, request);
      try {
        const completion = await this.send(call, model, (signal) => this.openai.chat.completions.create({ ...request, model }, this.sdkOptions(call, options, signal)));
        const usage = tokensOf(completion.usage) ?? this.estimatedUsage(request, completion.choices[0]?.message.content);
        call.recordUsage(model, usage, !tokensOf(completion.usage));
        this.telemetry.completion(call.attemptSpan, {
          requestModel: model,
          responseModel: completion.model,
          responseId: completion.id,
          ...usage,
          input: request.messages,
          output: completion.choices.map((choice) => choice.message),
        });
        return completion;
      } finally {
        call.inFlightMicro -= worstCaseMicro;
      }
    });
  }

  /**
   * A streamed completion. Attempts are retried until the stream opens; after that the stream
   * is the caller's. Usage is always requested and recorded when the stream reports it; a
   * stream closed early is recorded from what was read, and one left unread for
   * `client.attemptTimeoutMs` is closed. The guarded call settles its budget when the stream is done.
   */
  async streamChatCompletion(request: ChatStreamRequest, options: LlmRequestOptions = {}): Promise<AsyncIterable<OpenAI.Chat.ChatCompletionChunk>> {
    return this.runner.run(this.callFor(request, options), async (call) => {
      const { model, worstCaseMicro } = await this.prepare(call, request);
      // Held from here, not from the first read: the call must not settle before the stream is read.
      const release = call.hold();
      const attempt = call.attempt;
      const attemptSpan = call.attemptSpan;
      let freeSlot: (() => void) | undefined;
      try {
        const stream = await this.send(
          call,
          model,
          (signal) =>
            this.openai.chat.completions.create(
              { ...request, model, stream: true, stream_options: { ...request.stream_options, include_usage: true } },
              this.sdkOptions(call, options, signal),
            ),
          (slot) => (freeSlot = slot),
        );
        return settlingStream(
          stream,
          tokensOf,
          ({ reported, contentChunks, last }) => {
            // A chunk carries about one token: what was read is what was billed, at least.
            const usage = reported ?? { inputTokens: estimatePromptTokens(request.messages), outputTokens: contentChunks };
            call.recordUsage(model, usage, !reported, attempt);
            call.inFlightMicro -= worstCaseMicro;
            this.telemetry.completion(attemptSpan, { requestModel: model, responseModel: last?.model, responseId: last?.id, ...usage, input: request.messages });
            freeSlot?.();
            release();
          },
          this.options.client.attemptTimeoutMs,
        );
      } catch (error) {
        call.inFlightMicro -= worstCaseMicro;
        release();
        throw error;
      }
    });
  }

  /**
   * One upstream request through the storm controls: a concurrency slot for the model, then
   * its circuit (503 while open); the outcome goes back to the circuit. The slot comes first,
   * so that a request refused by the queue never holds a half-open probe. A stream keeps its
   * slot until it is read (`keepSlot`).
   */
  private async send<T>(call: GuardedCall, model: string, request: (signal: AbortSignal) => Promise<T>, keepSlot?: (free: () => void) => void): Promise<T> {
    const free = await this.storm.acquire(model, call.settings.strict, call.signal);
    let ticket;
    try {
      ticket = this.storm.admit(model);
    } catch (error) {
      free();
      throw error;
    }
    try {
      const result = await request(call.signal);
      this.storm.report(ticket);
      if (keepSlot) keepSlot(free);
      else free();
      return result;
    } catch (error) {
      this.storm.report(ticket, classifyFailure(error));
      free();
      throw error;
    }
  }

  private callFor(request: { model?: string; messages: ChatRequest['messages']; max_tokens?: number | null; max_completion_tokens?: number | null }, options: LlmRequestOptions) {
    const model = request.model ?? this.options.defaultModel;
    // Inside a guarded call the runner joins it and uses the handler's estimate: none to compute here.
    const estimatedTokens = currentGuardedCall()
      ? undefined
      : estimatePromptTokens(request.messages) + (maxCompletionTokens(request) ?? DEFAULT_COMPLETION_ESTIMATE);
    return {
      model,
      estimatedTokens,
      scopeKey: options.scopeKey,
      signal: options.signal,
    };
  }

  /**
   * The model to send (checked for a price), and budget headroom for this request's worst case
   * on top of what the call spent and what its other requests in flight may still spend.
   */
  private async prepare(call: GuardedCall, request: ChatRequest | ChatStreamRequest): Promise<{ model: string; worstCaseMicro: number }> {
    // The call's own model was swapped for strict mode when it opened; a model the request names is swapped here.
    const wanted = request.model === undefined ? call.settings.model : call.settings.strict ? this.storm.strictModel(request.model) : request.model;
    // The wanted model's circuit may be open: its first fallback whose circuit is not stands in.
    const model = this.storm.chooseModel(wanted);
    if (model !== wanted) this.telemetry.fallback(call.attemptSpan, wanted, model);
    // Fails before the request is sent: an unpriced model would spend without being counted.
    this.pricing.priceOf(model);
    if (!call.reservation) return { model, worstCaseMicro: 0 };
    const cap = maxCompletionTokens(request);
    const worstCaseMicro = cap === undefined ? call.estimateMicro : this.pricing.worstCaseMicroUsd(model, estimatePromptTokens(request.messages) + cap);
    // Counted before the await: parallel requests of one call each see the others' worst case.
    call.inFlightMicro += worstCaseMicro;
    try {
      await this.budget.topUp(call.reservation, call.spentMicro + call.inFlightMicro - this.budget.heldMicro(call.reservation), call.attempts.length);
    } catch (error) {
      call.inFlightMicro -= worstCaseMicro;
      throw error;
    }
    return { model, worstCaseMicro };
  }

  private sdkOptions(call: GuardedCall, options: LlmRequestOptions, callSignal: AbortSignal): OpenAI.RequestOptions {
    const configured = options.attemptTimeoutMs ?? this.options.client.attemptTimeoutMs;
    // An attempt never outlives the call's deadline.
    const remaining = Math.max(1, call.deadlineAtMs - this.clock.now());
    return {
      // AbortSignal.any costs microseconds and keeps weak references: only for two signals.
      signal: options.signal ? AbortSignal.any([callSignal, options.signal]) : callSignal,
      timeout: Math.min(configured, remaining),
      maxRetries: 0,
      idempotencyKey: upstreamIdempotencyKey(call.settings.idempotencyBase, call.nextRequestIndex()),
    };
  }

  private estimatedUsage(request: ChatRequest, content: string | null | undefined) {
    return { inputTokens: estimatePromptTokens(request.messages), outputTokens: Math.ceil((content ?? '').length / 3) };
  }
}
