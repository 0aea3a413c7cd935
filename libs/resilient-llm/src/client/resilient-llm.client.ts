import { Injectable } from '@nestjs/common';
import OpenAI from 'openai';
import { ResilientLlmConfigurationError } from '../errors/resilient-llm-configuration.error.js';
import { currentGuardedCall } from '../guarded/guarded-call.context.js';
import { GuardedCallRunner } from '../guarded/guarded-call.runner.js';
import { InjectClientSettings } from '../resilient-llm.constants.js';
import { GuardedFetch } from '../transport/guarded-fetch.js';
import { requestOverrides } from '../transport/request-overrides.js';
import { closingStream } from './closing-stream.js';
import type { ClientSettings } from './llm-client-options.interface.js';

type WithOptionalModel<T extends { model: unknown }> = Omit<T, 'model'> & { model?: string };
export type ChatRequest = WithOptionalModel<OpenAI.Chat.ChatCompletionCreateParamsNonStreaming>;
export type ChatStreamRequest = WithOptionalModel<Omit<OpenAI.Chat.ChatCompletionCreateParamsStreaming, 'stream'>>;

export interface LlmRequestOptions {
  /** Cancels the request, its retries and its backoff sleeps. */
  signal?: AbortSignal;
  /** This request's attempt timeout, in milliseconds, instead of `client.attemptTimeoutMs`. */
  attemptTimeoutMs?: number;
  /** Scope key for per-scope budgets, for a call made outside a guarded handler. */
  scopeKey?: string;
}

// The guarded fetch keeps each attempt to its own timeout and the call's deadline; the SDK's
// timer wraps the whole retry loop, so it must not cut it short (setTimeout's largest delay).
const SDK_TIMEOUT_MS = 2_147_483_647;

/**
 * The whole `openai` SDK on the guarded `fetch`, its own retries off: every endpoint
 * (`llm.openai.chat.completions`, `.responses`, `.embeddings`, ...) is retried per request,
 * budgeted, circuit-broken and traced. `llm.fetch` serves other SDKs the same way. Outside a
 * guarded handler each request is a guarded call of its own.
 */
@Injectable()
export class ResilientLlmClient {
  private sdk?: OpenAI;

  constructor(
    @InjectClientSettings() private readonly options: ClientSettings,
    private readonly runner: GuardedCallRunner,
    private readonly transport: GuardedFetch,
  ) {}

  /**
   * The guarded `fetch`, for other SDKs: `new OpenAI({ fetch: llm.fetch, maxRetries: 0 })`, or the
   * Vercel AI SDK's `createOpenAI({ fetch: llm.fetch })` with `maxRetries: 0` on each call.
   */
  get fetch(): typeof globalThis.fetch {
    return this.transport.fetch;
  }

  /** The `openai` SDK on the guarded fetch. It never retries by itself. */
  get openai(): OpenAI {
    if (!this.sdk) {
      const { apiKey, baseURL, defaultHeaders } = this.options.client;
      if (!apiKey) {
        throw new ResilientLlmConfigurationError('client.apiKey', 'is required before ResilientLlmClient can call the provider');
      }
      this.sdk = new OpenAI({ apiKey, baseURL, defaultHeaders, fetch: this.transport.fetch, maxRetries: 0, timeout: SDK_TIMEOUT_MS });
    }
    return this.sdk;
  }

  /** A chat completion on the guarded call's model (or the module's `defaultModel`) unless the request names one. */
  async createChatCompletion(request: ChatRequest, options: LlmRequestOptions = {}): Promise<OpenAI.Chat.ChatCompletion> {
    const model = this.modelOf(request);
    return this.guarded(model, options, () => this.openai.chat.completions.create({ ...request, model }, { signal: options.signal }));
  }

  /**
   * A streamed completion. Attempts are retried until the stream opens; after that the stream
   * is the caller's. Usage is always requested and recorded when the stream reports it; a
   * stream closed early is recorded from what was read, and one left unread for
   * `client.attemptTimeoutMs` is closed. The guarded call settles its budget when the stream is done.
   */
  async streamChatCompletion(request: ChatStreamRequest, options: LlmRequestOptions = {}): Promise<AsyncIterable<OpenAI.Chat.ChatCompletionChunk>> {
    const model = this.modelOf(request);
    const stream = await this.guarded(model, options, () => this.openai.chat.completions.create({ ...request, model, stream: true }, { signal: options.signal }));
    return closingStream(stream);
  }

  /** The request's model, else its guarded call's (the `@Guarded` model), else the module's default. */
  private modelOf(request: { model?: string }): string {
    return request.model ?? currentGuardedCall()?.model ?? this.options.defaultModel;
  }

  private guarded<T>(model: string, options: LlmRequestOptions, send: () => Promise<T>): Promise<T> {
    const overridden = () => (options.attemptTimeoutMs === undefined ? send() : requestOverrides.run({ attemptTimeoutMs: options.attemptTimeoutMs }, send));
    const running = this.runner.run({ model, scopeKey: options.scopeKey, signal: options.signal, httpErrors: true }, overridden);
    const { signal } = options;
    // A caller who aborted gets its own abort reason back, as from fetch.
    return signal
      ? running.catch((error: unknown) => {
          throw signal.aborted ? signal.reason : error;
        })
      : running;
  }
}
