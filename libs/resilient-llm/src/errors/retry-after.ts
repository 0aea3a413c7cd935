import { HttpException } from '@nestjs/common';

/** An HTTP exception that tells the client when to try again (sent as `Retry-After`). */
export interface RetryAfterHint {
  readonly retryAfterSeconds?: number;
}

export const retryAfterOf = (error: unknown): number | undefined =>
  error instanceof HttpException && typeof (error as RetryAfterHint).retryAfterSeconds === 'number'
    ? (error as RetryAfterHint).retryAfterSeconds
    : undefined;

interface HeaderTarget {
  setHeader?: (name: string, value: string) => unknown;
  header?: (name: string, value: string) => unknown;
}

/** Sends `Retry-After` with an exception that carries one (Express `setHeader`, Fastify `header`). */
export function applyRetryAfter(response: HeaderTarget | undefined, error: unknown): void {
  const seconds = retryAfterOf(error);
  if (seconds === undefined || !response) return;
  (response.setHeader ?? response.header)?.call(response, 'Retry-After', String(seconds));
}
