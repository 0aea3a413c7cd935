import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { context as otelContext } from '@opentelemetry/api';
import { type Observable, defer, lastValueFrom } from 'rxjs';
import { IDEMPOTENCY_REQUEST_PROPERTY } from '../idempotency/idempotency.interceptor.js';
import { type ScopeSettings, resolveScopeKey } from '../http/scope-extractor.js';
import { GUARDED_METADATA, InjectScopeSettings } from '../resilient-llm.constants.js';
import { GuardedCallRunner } from './guarded-call.runner.js';
import type { GuardedMetadata } from './guarded-options.js';
import { SSE_METADATA } from '../http/nest-route-metadata.js';

interface HttpResponseLike {
  raw?: HttpResponseLike;
  once?: (event: 'close', listener: () => void) => unknown;
  removeListener?: (event: 'close', listener: () => void) => unknown;
  writableFinished?: boolean;
}

/**
 * Runs a `@Guarded` handler as a guarded call: once, with one deadline, abort signal, span and
 * budget; the guarded transport retries each upstream request inside it. Only with
 * `retry: 'handler'` is `next.handle()` subscribed to again, which runs the handler again.
 */
@Injectable()
export class GuardedInterceptor implements NestInterceptor {
  // A handler function can serve several controllers (inherited), each with its own class-level options.
  private readonly optionsOf = new WeakMap<Function, WeakMap<Function, GuardedMetadata | null>>();

  constructor(
    private readonly reflector: Reflector,
    private readonly runner: GuardedCallRunner,
    @InjectScopeSettings() private readonly options: ScopeSettings,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const options = this.guardedOptions(context.getHandler(), context.getClass());
    if (!options) return next.handle();
    const http = context.getType() === 'http';
    const response = http ? context.switchToHttp().getResponse<HttpResponseLike>() : undefined;
    // Nest runs intercept() in the caller's async scope, but subscribes to what it returns later,
    // elsewhere: keep the trace context of now, so that the call span has the right parent.
    const parent = otelContext.active();
    return defer(() => otelContext.with(parent, () => {
      const scopeKey = options.scope ?? resolveScopeKey(this.options, context);
      const idempotencyKey = http ? context.switchToHttp().getRequest<Record<symbol, string | undefined>>()[IDEMPOTENCY_REQUEST_PROPERTY] : undefined;
      return this.runner.run(
        {
          model: options.model,
          estimatedTokens: options.estimatedTokens,
          backoff: options.backoff,
          scopeKey,
          idempotencyKey,
          abortWhen: disconnectOf(response),
          source: options.source,
          retry: options.retry,
          maxOutputTokens: options.maxOutputTokens,
          httpErrors: true,
        },
        () => lastValueFrom(next.handle(), { defaultValue: undefined }),
      );
    }));
  }

  /** The handler's `@Guarded` options (its own, else its controller's), read once per handler and controller. */
  private guardedOptions(handler: Function, controller: Function): GuardedMetadata | undefined {
    let byController = this.optionsOf.get(handler);
    if (!byController) this.optionsOf.set(handler, (byController = new WeakMap()));
    let options = byController.get(controller);
    if (options === undefined) {
      const declared = this.reflector.getAllAndOverride<GuardedMetadata | undefined>(GUARDED_METADATA, [handler, controller]);
      // An @Sse() handler of a guarded controller emits many values: it is not a guarded call.
      options = declared && !Reflect.hasMetadata(SSE_METADATA, handler) ? declared : null;
      byController.set(controller, options);
    }
    return options ?? undefined;
  }
}

/** Aborts the call when the client goes away before the response is sent: no retries for nobody. */
function disconnectOf(response: HttpResponseLike | undefined): ((abort: (reason: unknown) => void) => () => void) | undefined {
  const raw = response?.raw ?? response;
  if (!raw?.once || !raw.removeListener) return undefined;
  return (abort) => {
    const onClose = () => {
      if (!raw.writableFinished) abort(new Error('the client disconnected'));
    };
    raw.once!('close', onClose);
    return () => raw.removeListener!('close', onClose);
  };
}
