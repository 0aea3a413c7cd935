import { type CallHandler, type ExecutionContext, HttpException, Inject, Injectable, Logger, type NestInterceptor, StreamableFile } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import type { Span } from '@opentelemetry/api';
import { type Observable, catchError, concatMap, defer, finalize, from, mergeAll, of, throwError } from 'rxjs';
import { IdempotencyRequestException } from './idempotency-request.exception.js';
import { headerOccurrences } from '../http/header-occurrences.js';
import { type ScopeSettings, resolveScopeKey } from '../http/scope-extractor.js';
import { IDEMPOTENT_METADATA, InjectClock, InjectIdempotencySettings, InjectScopeSettings } from '../resilient-llm.constants.js';
import { type ClaimResult, type IdempotencyStore, RESILIENT_LLM_IDEMPOTENCY_STORE, type StoredResponse } from './idempotency-store.interface.js';
import { type IdempotencyEvents, RESILIENT_LLM_IDEMPOTENCY_EVENTS } from './idempotency-events.js';
import type { Clock } from '../time/clock.interface.js';
import { handlerProgress } from './handler-started.js';
import { canonicalJson, parseIdempotencyKey, recordId, requestFingerprint } from './idempotency-key.js';
import { IdempotencyRecords } from './idempotency-records.js';
import type { IdempotencySettings } from './idempotency-options.interface.js';
import type { IdempotentOptions } from './idempotent.decorator.js';

/** Where the request carries its idempotency record id, for the guarded call to pass upstream. */
export const IDEMPOTENCY_REQUEST_PROPERTY = Symbol.for('resilient-llm.idempotencyRecordId');

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const TRANSIENT = new Set([408, 409, 429]);

interface HttpRequestLike {
  method: string;
  originalUrl?: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
  [IDEMPOTENCY_REQUEST_PROPERTY]?: string;
}

/** Express's response and Fastify's reply both say their status here; headers go through the adapter. */
interface HttpResponseLike {
  statusCode: number;
}

const isStream = (value: unknown) =>
  value instanceof StreamableFile || Buffer.isBuffer(value) || (typeof value === 'object' && value !== null && typeof (value as { pipe?: unknown }).pipe === 'function');

/**
 * The Idempotency-Key protocol (IETF draft, Stripe's behaviour) for `@Idempotent` handlers.
 * Registered app-wide by the module, so it runs before `@Guarded`: a replay or a refusal
 * never reserves budget or calls the upstream.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly records: IdempotencyRecords;

  constructor(
    private readonly reflector: Reflector,
    private readonly adapterHost: HttpAdapterHost,
    @InjectIdempotencySettings() private readonly options: IdempotencySettings,
    @InjectScopeSettings() private readonly scope: ScopeSettings,
    @Inject(RESILIENT_LLM_IDEMPOTENCY_STORE) store: IdempotencyStore,
    @InjectClock() private readonly clock: Clock,
    @Inject(RESILIENT_LLM_IDEMPOTENCY_EVENTS) private readonly events: IdempotencyEvents,
  ) {
    this.records = new IdempotencyRecords(store, options.idempotency.header, new Logger('IdempotencyInterceptor'), options.storage.maxWaitMs);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<HttpRequestLike>();
    const marked = this.reflector.getAllAndOverride<IdempotentOptions | undefined>(IDEMPOTENT_METADATA, [context.getHandler(), context.getClass()]);
    const options = marked ?? (this.options.idempotency.applyToUnsafeMethods && UNSAFE_METHODS.has(request.method) ? {} : undefined);
    if (!options) return next.handle();
    // Only @Idempotent wraps the handler to mark its start; a route taken in by applyToUnsafeMethods cannot tell.
    const knowsStart = marked !== undefined;
    return defer(() => from(this.run(context, next, request, options, knowsStart))).pipe(mergeAll());
  }

  private async run(context: ExecutionContext, next: CallHandler, request: HttpRequestLike, options: IdempotentOptions, knowsStart: boolean): Promise<Observable<unknown>> {
    const settings = this.options.idempotency;
    // Node joins repeated headers into one "a, b", which would pass for one key.
    const occurrences = headerOccurrences(request, settings.header);
    if (occurrences > 1) {
      throw new IdempotencyRequestException('idempotency_key_invalid', `Malformed ${settings.header} header: it appears ${occurrences} times; send one key.`);
    }
    const parsed = parseIdempotencyKey(request.headers[settings.header]);
    if (parsed.ok === 'absent') {
      if (options.required) throw new IdempotencyRequestException('idempotency_key_missing', `This endpoint requires an ${settings.header} header.`);
      return next.handle();
    }
    if (!parsed.ok) throw new IdempotencyRequestException('idempotency_key_invalid', `Malformed ${settings.header} header: ${parsed.reason}.`);

    // The span covers the lookup and, on a miss, the handler: the guarded call becomes its child.
    const span = this.events.startIdempotency();
    try {
      const handled = await this.events.within(span, () => this.withKey(context, next, request, options, parsed.key, span, knowsStart));
      return handled.pipe(finalize(() => this.events.endSpan(span)));
    } catch (error) {
      this.events.endSpan(span);
      throw error;
    }
  }

  private async withKey(
    context: ExecutionContext,
    next: CallHandler,
    request: HttpRequestLike,
    options: IdempotentOptions,
    key: string,
    span: Span,
    knowsStart: boolean,
  ): Promise<Observable<unknown>> {
    const { claim, id, owner, fingerprint } = await this.claimKey(context, request, options, key);
    const usable = this.usableClaim(claim, fingerprint, span);
    const response = context.switchToHttp().getResponse<HttpResponseLike>();
    if (usable.outcome === 'completed') {
      this.events.idempotencyOutcome(span, 'hit');
      return this.replay(usable.response, response);
    }
    this.events.idempotencyOutcome(span, 'miss');

    // Upstream keys derive from the key and the request: after a release, another body never reuses them.
    request[IDEMPOTENCY_REQUEST_PROPERTY] = `${id}:${fingerprint}`;
    return this.runAndRecord(next, { id, owner }, response, knowsStart);
  }

  /** Claims the key in the caller's scope for this request, under a new owner and a lease. */
  private async claimKey(context: ExecutionContext, request: HttpRequestLike, options: IdempotentOptions, key: string) {
    const settings = this.options.idempotency;
    const scope = resolveScopeKey(this.scope, context) ?? '';
    const body = this.fingerprintableBody(request);
    const id = recordId(scope, key);
    const fingerprint = requestFingerprint({ method: request.method, path: request.originalUrl ?? request.url, scope, body });
    const owner = randomUUID();
    const now = this.clock.now();
    const claim = await this.records.claim({
      id,
      scope,
      key,
      fingerprint,
      owner,
      nowMs: now,
      leaseExpiresAt: now + settings.leaseMs,
      expiresAt: now + (options.ttlMs ?? settings.ttlMs),
    });
    return { claim, id, owner, fingerprint };
  }

  /** A claim this request may act on: refused when the key was used for another request, or is still held. */
  private usableClaim(claim: ClaimResult, fingerprint: string, span: Span): Exclude<ClaimResult, { outcome: 'in_progress' }> {
    const { header } = this.options.idempotency;
    if (claim.outcome !== 'acquired' && claim.fingerprint !== fingerprint) {
      this.events.idempotencyOutcome(span, 'mismatch');
      throw new IdempotencyRequestException('idempotency_key_reused', `This ${header} was already used with a different request; use a new key for a new request.`);
    }
    if (claim.outcome === 'in_progress') {
      this.events.idempotencyOutcome(span, 'conflict');
      throw new IdempotencyRequestException('idempotency_request_in_progress', `A request with this ${header} is still being processed; retry later.`);
    }
    return claim;
  }

  /** The canonical JSON of the body, which the fingerprint is made of; refused when too deep or too large to keep. */
  private fingerprintableBody(request: HttpRequestLike): string {
    const canonical = canonicalJson(request.body);
    if (!canonical.ok) {
      throw new IdempotencyRequestException(
        'idempotency_body_too_deep',
        `The request body nests arrays and objects more than ${canonical.maxDepth} levels deep, the most an idempotent request may carry.`,
      );
    }
    const { maxBodyBytes } = this.options.idempotency;
    if (Buffer.byteLength(canonical.json) > maxBodyBytes) {
      throw new IdempotencyRequestException('idempotency_body_too_large', `The request body is over ${maxBodyBytes} bytes, the most an idempotent request may carry.`);
    }
    return canonical.json;
  }

  /** Runs the handler on a key this request holds: stores what it answers, or gives the key up when a retry may do better. */
  private runAndRecord(next: CallHandler, { id, owner }: { id: string; owner: string }, response: HttpResponseLike, knowsStart: boolean): Observable<unknown> {
    const progress = { started: false };
    return handlerProgress.run(progress, () =>
      next.handle().pipe(
        concatMap(async (value) => {
          if (isStream(value)) await this.records.release(id, owner, 'a streamed response is not stored');
          else await this.records.complete(id, owner, () => ({ statusCode: response.statusCode, headers: this.storedHeaders(response), body: JSON.stringify(value ?? null), kind: 'value' }));
          return value;
        }),
        catchError(async (error: unknown) => {
          const status = error instanceof HttpException ? error.getStatus() : 500;
          // A 5xx may succeed next time; so may a 408, 409 or 429 (a budget window that resets, a
          // rate limit that lifts). A request refused before its handler ran never executed at all.
          const beforeHandler = knowsStart && !progress.started;
          if (status >= 500 || TRANSIENT.has(status) || beforeHandler) await this.records.release(id, owner, `status ${status}`);
          else await this.records.complete(id, owner, () => ({ statusCode: status, headers: {}, body: JSON.stringify((error as HttpException).getResponse()), kind: 'error' }));
          throw error;
        }),
      ),
    );
  }

  private replay(stored: StoredResponse, response: HttpResponseLike): Observable<unknown> {
    const adapter = this.adapterHost.httpAdapter;
    for (const [name, value] of Object.entries(stored.headers)) adapter.setHeader(response, name, value);
    adapter.setHeader(response, 'Idempotent-Replayed', 'true');
    const body = JSON.parse(stored.body) as unknown;
    if (stored.kind === 'error') return throwError(() => new HttpException(body as Record<string, unknown>, stored.statusCode));
    return of(body);
  }

  private storedHeaders(response: HttpResponseLike): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const name of this.options.idempotency.storedHeaders) {
      const value: unknown = this.adapterHost.httpAdapter.getHeader(response, name);
      if (value !== undefined) headers[name] = String(value);
    }
    return headers;
  }
}
