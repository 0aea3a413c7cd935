import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type Observable, catchError, defer, lastValueFrom, throwError } from 'rxjs';
import { isLlmCallFailedException } from '../errors/llm-call-failed.exception.js';
import { GUARDED_METADATA } from '../resilient-llm.constants.js';
import { GuardedCallRunner } from './guarded-call.runner.js';
import type { GuardedOptions } from './guarded-options.js';

type HeaderSetter = { setHeader?: (name: string, value: string) => unknown; header?: (name: string, value: string) => unknown };

/**
 * Runs a `@Guarded` handler as a guarded call. Each retry subscribes to `next.handle()` again,
 * which runs the handler again. Handlers that write to the response themselves (`@Res()`) or
 * stream several values (`@Sse()`) cannot be replayed and must not be guarded.
 */
@Injectable()
export class GuardedInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly runner: GuardedCallRunner,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const options = this.reflector.getAllAndOverride<GuardedOptions | undefined>(GUARDED_METADATA, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!options) return next.handle();
    return defer(() => this.runner.run(options, () => lastValueFrom(next.handle(), { defaultValue: undefined }))).pipe(
      catchError((error: unknown) => {
        if (isLlmCallFailedException(error) && error.retryAfterSeconds !== undefined && context.getType() === 'http') {
          const response = context.switchToHttp().getResponse<HeaderSetter>();
          (response.setHeader ?? response.header)?.call(response, 'Retry-After', String(error.retryAfterSeconds));
        }
        return throwError(() => error);
      }),
    );
  }
}
