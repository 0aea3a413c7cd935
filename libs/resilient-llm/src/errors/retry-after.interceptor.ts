import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { type Observable, catchError, throwError } from 'rxjs';
import { retryAfterOf } from './retry-after.js';
import { isShuttingDownException } from './shutting-down.exception.js';

/**
 * Registered app-wide by the module: an exception of this library that says when to try again
 * (429 budget, 503 store or upstream, shutdown) is sent with `Retry-After`, wherever it was
 * thrown (a guarded call, the idempotency protocol, the budget view). Headers go through the
 * HTTP adapter, so Express and Fastify responses both get them.
 */
@Injectable()
export class RetryAfterInterceptor implements NestInterceptor {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    return next.handle().pipe(
      catchError((error: unknown) => {
        const seconds = retryAfterOf(error);
        if (seconds !== undefined) {
          const adapter = this.adapterHost.httpAdapter;
          const response: unknown = context.switchToHttp().getResponse();
          adapter.setHeader(response, 'Retry-After', String(seconds));
          // A kept-alive connection would hold the closing server open until its idle timeout.
          if (isShuttingDownException(error)) adapter.setHeader(response, 'Connection', 'close');
        }
        return throwError(() => error);
      }),
    );
  }
}
