import { HttpException, HttpStatus } from '@nestjs/common';
import { scopeKeyOf } from './budget-scope.js';
import type { BudgetWindowKind } from './budget-window.js';
import { microUsdToUsd as usd } from '../pricing/micro-price.js';
import type { RetryAfterHint } from '../errors/retry-after.js';
import { hasBrand } from '../errors/brand.js';

const brand = Symbol.for('resilient-llm.BudgetExhaustedException');

export interface BudgetExhaustedBody {
  statusCode: 429;
  code: 'budget_exhausted';
  message: string;
  /** `global`, or the caller's scope key. */
  scope: string;
  window: BudgetWindowKind;
  limitUsd: number;
  spentUsd: number;
  reservedUsd: number;
  /** What the call needed to reserve. */
  requestedUsd: number;
  /** When the window resets (ISO 8601). */
  resetsAt: string;
}

const money = (micro: number) => `$${usd(micro).toFixed(6).replace(/0{1,4}$/, '')}`;

export interface ExhaustedWindow {
  scope: string;
  kind: BudgetWindowKind;
  limitMicro: number;
  spentMicro: number;
  reservedMicro: number;
  endsAt: number;
}

/** 429: the call would take a budget window past its limit, so no upstream request is made. */
export class BudgetExhaustedException extends HttpException implements RetryAfterHint {
  readonly [brand] = true;
  readonly retryAfterSeconds: number;

  constructor(
    /** The window that could not hold the call, in micro-dollars. */
    readonly window: ExhaustedWindow,
    readonly requestedMicro: number,
    nowMs: number,
    afterAttempts?: number,
  ) {
    // Never in the past, whatever the window says: a client told to come back must find a later time.
    const retryAfterSeconds = Math.max(1, Math.ceil((window.endsAt - nowMs) / 1000));
    const resetsAt = new Date(window.endsAt > nowMs ? window.endsAt : nowMs + retryAfterSeconds * 1000).toISOString();
    const scope = scopeKeyOf(window.scope);
    const stopped = afterAttempts ? ` Stopped retrying after ${afterAttempts} failed attempt(s).` : '';
    const body: BudgetExhaustedBody = {
      statusCode: 429,
      code: 'budget_exhausted',
      message:
        `The ${window.kind} budget of scope "${scope}" cannot cover this call: ${money(window.spentMicro + window.reservedMicro)} ` +
        `of ${money(window.limitMicro)} is spent or reserved, and the call needs up to ${money(requestedMicro)}. ` +
        `It resets at ${resetsAt}.${stopped}`,
      scope,
      window: window.kind,
      limitUsd: usd(window.limitMicro),
      spentUsd: usd(window.spentMicro),
      reservedUsd: usd(window.reservedMicro),
      requestedUsd: usd(requestedMicro),
      resetsAt,
    };
    super(body, HttpStatus.TOO_MANY_REQUESTS);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export const isBudgetExhaustedException = (error: unknown): error is BudgetExhaustedException => hasBrand(error, brand);
