import { HttpException, HttpStatus } from '@nestjs/common';
import type { RetryAfterHint } from '../errors/retry-after.js';
import { hasBrand } from '../errors/brand.js';

const brand = Symbol.for('resilient-llm.CircuitOpenException');

/** 503: the circuit of the model (and of its fallbacks) is open; no upstream request, no budget reservation. */
export class CircuitOpenException extends HttpException implements RetryAfterHint {
  readonly [brand] = true;
  readonly retryAfterSeconds: number;

  constructor(models: string[], retryAfterMs: number) {
    const list = models.map((model) => `"${model}"`).join(', ');
    super(
      {
        statusCode: 503,
        code: 'circuit_open',
        message: `The upstream is failing for ${list}; calls fail fast until the circuit half-opens in ${Math.ceil(retryAfterMs / 1000)} s.`,
      },
      HttpStatus.SERVICE_UNAVAILABLE,
    );
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  }
}

export const isCircuitOpenException = (error: unknown): error is CircuitOpenException => hasBrand(error, brand);
