import { Injectable } from '@nestjs/common';
import OpenAI from 'openai';
import type { ResolvedResilientLlmOptions } from '../module/resilient-llm-options.interface.js';
import { LlmPricing } from '../pricing/llm-pricing.service.js';
import { InjectResilientLlmOptions } from '../resilient-llm.constants.js';
import { ResilientLlmConfigurationError } from '../errors/resilient-llm-configuration.error.js';
import type { GuardedCall } from '../guarded/guarded-call.context.js';
import { GuardedCallRunner } from '../guarded/guarded-call.runner.js';

type WithOptionalModel<T extends { model: unknown }> = Omit<T, 'model'> & { model?: string };
export type ChatRequest = WithOptionalModel<OpenAI.Chat.ChatCompletionCreateParamsNonStreaming>;
export type ChatStreamRequest = WithOptionalModel<Omit<OpenAI.Chat.ChatCompletionCreateParamsStreaming, 'stream'>>;

export interface LlmRequestOptions {
  /** Cancels the call, its retries and its backoff sleeps. */
  signal?: AbortSignal;
  /** This call's attempt timeout, in milliseconds, instead of `client.attemptTimeoutMs`. */
  attemptTimeoutMs?: number;
}

/**
 * The `openai` SDK with its own retries off (`maxRetries: 0`): every attempt goes through
 * `BackoffPolicy`. Inside a `@Guarded` handler a call makes exactly one attempt (the handler
 * is what gets retried); outside one, the client retries by itself. Either way the guarded
 * call records each completion's token usage and cost.
 */
@Injectable()
export class ResilientLlmClient {
  private sdk?: OpenAI;

  constructor(
    @InjectResilientLlmOptions() private readonly options: ResolvedResilientLlmOptions,
    private readonly runner: GuardedCallRunner,
    private readonly pricing: LlmPricing,
  ) {}

  /** The underlying SDK client, for endpoints this wrapper does not cover. It never retries by itself. */
  get openai(): OpenAI {
    if (!this.sdk) {
      const { apiKey, baseURL, attemptTimeoutMs, defaultHeaders } = this.options.client;
      if (!apiKey) {
        throw new ResilientLlmConfigurationError('client.apiKey', 'is required before ResilientLlmClient can call the provider');
      }
      this.sdk = new OpenAI({ apiKey, baseURL, timeout: attemptTimeoutMs, maxRetries: 0, defaultHeaders });
    }
    return this.sdk;
  }

  async createChatCompletion(request: ChatRequest, options: LlmRequestOptions = {}): Promise<OpenAI.Chat.ChatCompletion> {
    const model = this.modelOf(request);
    return this.runner.run({ model, signal: options.signal }, async (call) => {
      const completion = await this.openai.chat.completions.create({ ...request, model }, this.sdkOptions(options));
      if (completion.usage) this.record(call, model, completion.usage);
      return completion;
    });
  }

  /**
   * A streamed completion. Attempts are retried until the stream opens; after the first chunk
   * the stream is the caller's. Usage is requested (`stream_options.include_usage`) and recorded
   * when the stream's last chunk reports it.
   */
  async streamChatCompletion(
    request: ChatStreamRequest,
    options: LlmRequestOptions = {},
  ): Promise<AsyncIterable<OpenAI.Chat.ChatCompletionChunk>> {
    const model = this.modelOf(request);
    return this.runner.run({ model, signal: options.signal }, async (call) => {
      const stream = await this.openai.chat.completions.create(
        { ...request, model, stream: true, stream_options: { include_usage: true, ...request.stream_options } },
        this.sdkOptions(options),
      );
      return this.recordStreamUsage(stream, call, model);
    });
  }

  private async *recordStreamUsage(
    stream: AsyncIterable<OpenAI.Chat.ChatCompletionChunk>,
    call: GuardedCall,
    model: string,
  ): AsyncIterable<OpenAI.Chat.ChatCompletionChunk> {
    for await (const chunk of stream) {
      if (chunk.usage) this.record(call, model, chunk.usage);
      yield chunk;
    }
  }

  private modelOf(request: { model?: string }): string {
    const model = request.model ?? this.options.defaultModel;
    // Fails before the request is sent: an unpriced model would spend without being counted.
    this.pricing.priceOf(model);
    return model;
  }

  private sdkOptions(options: LlmRequestOptions): OpenAI.RequestOptions {
    return { signal: options.signal, timeout: options.attemptTimeoutMs ?? this.options.client.attemptTimeoutMs, maxRetries: 0 };
  }

  private record(call: GuardedCall, model: string, usage: OpenAI.CompletionUsage): void {
    const tokens = { inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens };
    call.recordCompletion({ model, ...tokens, costMicroUsd: this.pricing.costMicroUsd(model, tokens) });
  }
}
