import { Injectable, Logger } from '@nestjs/common';
import { GuardedCallRunner } from '../guarded/guarded-call.runner.js';
import { type GuardedCall, activeGuardedCall } from '../guarded/guarded-call.context.js';
import { RequestExecutor } from './request-executor.js';
import { upstreamIdempotencyKey } from '../idempotency/idempotency-key.js';
import { LlmPricing } from '../pricing/llm-pricing.service.js';
import { InjectTransportSettings } from '../resilient-llm.constants.js';
import { type EndpointAdapter, type JsonBody, type PromptCount, adapterFor, parseJsonObject } from './adapters/index.js';
import { requestOverrides } from './request-overrides.js';
import type { UpstreamRequest } from './upstream-request.js';
import type { TransportSettings } from './transport-settings.interface.js';

interface OutgoingRequest {
  url: string;
  path: string;
  method: string;
  headers: Headers;
  init: RequestInit;
  rawBody: RequestInit['body'];
  adapter?: EndpointAdapter;
  body?: JsonBody;
  signal?: AbortSignal;
}

/**
 * A `fetch` that every SDK call goes through: each request becomes one retried, budgeted,
 * circuit-broken, traced upstream request of the guarded call it runs in (a call of its own
 * outside one). Give it to any SDK that takes a `fetch`, with that SDK's own retries off.
 */
@Injectable()
export class GuardedFetch {
  private readonly logger = new Logger('ResilientLlmFetch');
  private readonly warnedPaths = new Set<string>();
  private warnedCallerRetries = false;

  /** The guarded `fetch`, bound: `new OpenAI({ fetch: llm.fetch, maxRetries: 0 })`. */
  readonly fetch: typeof globalThis.fetch = (input, init) => this.send(input, init);

  constructor(
    private readonly runner: GuardedCallRunner,
    private readonly executor: RequestExecutor,
    private readonly pricing: LlmPricing,
    @InjectTransportSettings() private readonly options: TransportSettings,
  ) {}

  private send(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
    let outgoing: OutgoingRequest;
    try {
      outgoing = this.describe(input, init);
    } catch (error) {
      return Promise.reject(error);
    }
    this.noticeCallerRetries(outgoing.headers);
    // Once per process and encoding (at startup for the default model): prompts are then counted exactly.
    const call = activeGuardedCall();
    const loading = this.options.budget.enabled && outgoing.adapter ? this.pricing.prepareTokenizer(bodyModel(outgoing.body) ?? call?.settings.model ?? this.options.defaultModel) : undefined;
    return loading ? loading.then(() => this.dispatch(outgoing, call)) : this.dispatch(outgoing, call);
  }

  private async dispatch(outgoing: OutgoingRequest, call: GuardedCall | undefined): Promise<Response> {
    if (call && !call.closed) return await this.executor.execute(call, this.upstreamRequest(call, outgoing));
    const model = bodyModel(outgoing.body);
    return this.runner.run({ model, signal: outgoing.signal }, () => {
      const own = activeGuardedCall()!;
      return this.executor.execute(own, this.upstreamRequest(own, outgoing));
    });
  }

  private describe(input: string | URL | Request, init: RequestInit): OutgoingRequest {
    const source = input instanceof Request ? input : undefined;
    const url = source ? source.url : String(input);
    const method = (init.method ?? source?.method ?? 'GET').toUpperCase();
    const rawBody = init.body !== undefined ? init.body : (source?.body ?? undefined);
    const path = new URL(url).pathname;
    const adapter = method === 'POST' ? adapterFor(path) : undefined;
    if (method === 'POST' && !adapter) this.warnUnadapted(path);
    const body = adapter && typeof rawBody === 'string' ? parseJsonObject(rawBody) : undefined;
    const signal = init.signal ?? source?.signal ?? undefined;
    return { url, path, method, headers: new Headers(init.headers ?? source?.headers), init, rawBody, adapter, body, signal };
  }

  private upstreamRequest(call: GuardedCall, outgoing: OutgoingRequest): UpstreamRequest {
    const { adapter, method, headers, rawBody, url, init, signal: callerSignal } = outgoing;
    const body = this.cappedBody(call, outgoing);
    const number = call.nextRequestNumber();
    // The same key on every retry of this request, another for the call's next request: the provider can deduplicate.
    if (method !== 'GET' && !headers.has('idempotency-key')) headers.set('Idempotency-Key', upstreamIdempotencyKey(call.upstreamKeyBase, number));
    const model = bodyModel(body);
    const costs = method === 'POST';
    const resendable = isResendable(rawBody);
    const promptCount = this.promptCounter(adapter, body);
    return {
      number,
      operation: adapter?.operation ?? outgoing.path.split('/').pop() ?? 'unknown',
      adapter,
      body,
      model,
      costs,
      resendable,
      attemptTimeoutMs: requestOverrides.getStore()?.attemptTimeoutMs,
      callerSignal,
      worstCaseMicro: (priced, callEstimateMicro) => (costs ? this.worstCaseMicro(priced, callEstimateMicro, adapter, body, promptCount) : 0),
      promptTokens: (priced) => promptCount(priced).tokens,
      rateLimitTokens: (priced) => (adapter && body ? promptCount(priced).tokens + (adapter.outputCap(body) ?? 0) : 0),
      send: (sendModel, signal) => {
        const sent = body ? JSON.stringify(sendModel === model || model === undefined ? body : { ...body, model: sendModel }) : rawBody;
        // A streamed body must say so to undici.
        return globalThis.fetch(url, { ...init, method, headers, body: sent, signal, ...(!resendable && { duplex: 'half' }) } as RequestInit);
      },
    };
  }

  /** The body as it is sent: with an output cap when it had none (the handler's, else the module's). */
  private cappedBody(call: GuardedCall, { adapter, body }: OutgoingRequest): JsonBody | undefined {
    const sentModel = bodyModel(body) ?? call.settings.model;
    const limits = { maxOutputTokens: call.settings.maxOutputTokens ?? this.options.defaultMaxOutputTokens, legacyCapField: !this.pricing.isOpenAiModel(sentModel) };
    return adapter && body && adapter.prepare(body, limits);
  }

  /** Counted once per tokenizer, not once per attempt: retries and fallback models of one encoding share it. */
  private promptCounter(adapter: EndpointAdapter | undefined, body: JsonBody | undefined): (priced: string) => PromptCount {
    const counts = new Map<string, PromptCount>();
    return (priced) => {
      const tokenizer = this.pricing.tokenizerFor(priced);
      let count = counts.get(tokenizer.name);
      if (!count) {
        count = adapter && body ? adapter.promptTokens(body, tokenizer) : { tokens: 0, uncounted: 0 };
        counts.set(tokenizer.name, count);
      }
      return count;
    };
  }

  /** The most a request that costs could be billed at `priced`: what a budget holds for it before it is sent. */
  private worstCaseMicro(priced: string, callEstimateMicro: number, adapter: EndpointAdapter | undefined, body: JsonBody | undefined, promptCount: (priced: string) => PromptCount): number {
    // Fails before the request is sent: an unpriced model would spend without being counted.
    this.pricing.priceOf(priced);
    // A body the transport cannot read: the call's estimate, else the default cap at the dearest rate.
    if (!adapter || !body) return callEstimateMicro > 0 ? callEstimateMicro : this.pricing.worstCaseMicroUsd(priced, this.options.defaultMaxOutputTokens);
    // Without a budget nothing reserves it (and the answer's usage prices the request): no need to count.
    if (!this.options.budget.enabled) return 0;
    const prompt = promptCount(priced);
    const worst = this.pricing.requestWorstCaseMicroUsd(priced, prompt.tokens, adapter.outputCap(body) ?? 0);
    // Images, audio and files are not counted: the call's estimate stands in where it is larger.
    return prompt.uncounted > 0 ? Math.max(worst, callEstimateMicro) : worst;
  }

  private warnUnadapted(path: string): void {
    if (this.warnedPaths.has(path) || this.warnedPaths.size >= 100) return;
    this.warnedPaths.add(path);
    this.logger.warn(`No adapter for POST ${path}: it is retried and traced, and counted against its call's estimate, not priced from its usage.`);
  }

  private noticeCallerRetries(headers: Headers): void {
    const retryCount = Number(headers.get('x-stainless-retry-count') ?? 0);
    if (this.warnedCallerRetries || !(retryCount > 0)) return;
    this.warnedCallerRetries = true;
    this.logger.warn(
      `A request reached the guarded fetch as retry ${retryCount} of its SDK: give that client maxRetries: 0, or its retries multiply this module's.`,
    );
  }
}

function isResendable(body: RequestInit['body']): boolean {
  if (body === undefined || body === null || typeof body === 'string') return true;
  if (typeof ReadableStream !== 'undefined' && body instanceof ReadableStream) return false;
  return !(typeof body === 'object' && Symbol.asyncIterator in body);
}

const bodyModel = (body: JsonBody | undefined): string | undefined => (typeof body?.model === 'string' ? body.model : undefined);
