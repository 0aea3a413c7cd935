import { HttpException } from '@nestjs/common';

/** An HTTP exception that tells the client when to try again (sent as `Retry-After`). */
export interface RetryAfterHint {
  readonly retryAfterSeconds?: number;
}

export const retryAfterOf = (error: unknown): number | undefined =>
  error instanceof HttpException && typeof (error as RetryAfterHint).retryAfterSeconds === 'number'
    ? (error as RetryAfterHint).retryAfterSeconds
    : undefined;
