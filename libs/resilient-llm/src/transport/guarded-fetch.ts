import { Injectable, Logger } from '@nestjs/common';
import { GuardedCallRunner } from '../guarded/guarded-call.runner.js';
import { type GuardedCall, activeGuardedCall } from '../guarded/guarded-call.context.js';
import { RequestExecutor } from '../guarded/request-executor.js';
import { upstreamIdempotencyKey } from '../idempotency/idempotency-key.js';
import { LlmPricing } from '../pricing/llm-pricing.service.js';
import { type EndpointAdapter, type JsonBody, adapterFor, parseJsonObject } from './adapters/index.js';
import { requestOverrides } from './request-overrides.js';
import type { UpstreamRequest } from './upstream-request.js';

/** Output tokens assumed for a request that sets no cap, when its call has no estimate either. */
const DEFAULT_OUTPUT_TOKENS = 1_024;

interface OutgoingRequest {
  url: string;
  path: string;
  method: string;
  headers: Headers;
  init: RequestInit;
  rawBody: RequestInit['body'];
  adapter?: EndpointAdapter;
  body?: JsonBody;
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
  ) {}

  private async send(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
    const outgoing = this.describe(input, init);
    this.noticeCallerRetries(outgoing.headers);
    const call = activeGuardedCall();
    if (call) return this.executor.execute(call, this.upstreamRequest(call, outgoing));
    const model = typeof outgoing.body?.model === 'string' ? outgoing.body.model : undefined;
    const signal = init.signal ?? (input instanceof Request ? input.signal : undefined);
    return this.runner.run({ model, signal: signal ?? undefined }, () => {
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
    const parsed = adapter && typeof rawBody === 'string' ? parseJsonObject(rawBody) : undefined;
    return { url, path, method, headers: new Headers(init.headers ?? source?.headers), init, rawBody, adapter, body: parsed && adapter!.prepare(parsed) };
  }

  private upstreamRequest(call: GuardedCall, outgoing: OutgoingRequest): UpstreamRequest {
    const { adapter, body, method, headers, rawBody, url, init } = outgoing;
    const number = call.nextRequestNumber();
    // The same key on every retry of this request, another for the call's next request: the provider can deduplicate.
    if (method !== 'GET' && !headers.has('idempotency-key')) headers.set('Idempotency-Key', upstreamIdempotencyKey(call.settings.idempotencyBase, number));
    const model = typeof body?.model === 'string' ? body.model : undefined;
    const costs = method === 'POST';
    return {
      number,
      operation: adapter?.operation ?? outgoing.path.split('/').pop() ?? 'unknown',
      adapter,
      body,
      model,
      resendable: isResendable(rawBody),
      attemptTimeoutMs: requestOverrides.getStore()?.attemptTimeoutMs,
      callerSignal: init.signal ?? undefined,
      worstCaseMicro: (priced, callEstimateMicro) => {
        if (!costs) return 0;
        // Fails before the request is sent: an unpriced model would spend without being counted.
        this.pricing.priceOf(priced);
        const cap = adapter && body ? adapter.outputCap(body) : undefined;
        if (cap === undefined && callEstimateMicro > 0) return callEstimateMicro;
        const prompt = adapter && body ? adapter.promptTokens(body) : 0;
        return this.pricing.worstCaseMicroUsd(priced, prompt + (cap ?? DEFAULT_OUTPUT_TOKENS));
      },
      send: (sendModel, signal) => {
        const sent = body ? JSON.stringify(sendModel === model || model === undefined ? body : { ...body, model: sendModel }) : rawBody;
        return globalThis.fetch(url, { ...init, method, headers, body: sent, signal });
      },
    };
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

