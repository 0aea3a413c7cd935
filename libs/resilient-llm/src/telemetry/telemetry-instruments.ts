import { type Attributes, type Counter, type Histogram, metrics } from '@opentelemetry/api';
import type { BudgetWindowStatus } from '../budget/budget-status.interface.js';
import * as semconv from './semconv.js';
import { AttributeNames, INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION, MetricNames } from './telemetry.names.js';

const MAX_GAUGED_WINDOWS = 1_000;

export interface Instruments {
  calls: Counter;
  attempts: Counter;
  retries: Counter;
  budgetRejections: Counter;
  cost: Counter;
  backoffDelay: Histogram;
  tokenUsage: Histogram;
  circuitTransitions: Counter;
  retryBudgetDenials: Counter;
}

/** Latest ratio per scope and window, for the observable gauge. */
export type BudgetRatios = Map<string, { ratio: number; attributes: Attributes }>;

/** The library's meters, the budget-ratio gauge reading `budgetRatios` on each collection. */
export function createInstruments(budgetRatios: BudgetRatios): Instruments {
  const meter = metrics.getMeter(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
  meter
    .createObservableGauge(MetricNames.BUDGET_RATIO, { description: 'Spent plus reserved over the limit, per scope and window', unit: '1' })
    .addCallback((result) => {
      for (const { ratio, attributes } of budgetRatios.values()) result.observe(ratio, attributes);
    });
  return {
    calls: meter.createCounter(MetricNames.CALLS, { description: 'Guarded calls, by outcome' }),
    attempts: meter.createCounter(MetricNames.ATTEMPTS, { description: 'Upstream attempts, by outcome' }),
    retries: meter.createCounter(MetricNames.RETRIES, { description: 'Attempts after the first, by the failure that caused them' }),
    budgetRejections: meter.createCounter(MetricNames.BUDGET_REJECTIONS, { description: 'Calls refused by a budget window' }),
    cost: meter.createCounter(MetricNames.COST, { description: 'Money spent by guarded calls', unit: '{microdollar}' }),
    backoffDelay: meter.createHistogram(MetricNames.BACKOFF_DELAY, { description: 'Backoff delays slept', unit: 'ms' }),
    tokenUsage: meter.createHistogram(semconv.METRIC_GEN_AI_CLIENT_TOKEN_USAGE, { description: 'Tokens used per completion', unit: '{token}' }),
    circuitTransitions: meter.createCounter(MetricNames.CIRCUIT_TRANSITIONS, { description: 'Circuit breaker state changes, by new state' }),
    retryBudgetDenials: meter.createCounter(MetricNames.RETRY_BUDGET_DENIALS, { description: 'Retries the retry budget refused' }),
  };
}

export function gaugeBudgetRatios(budgetRatios: BudgetRatios, windows: BudgetWindowStatus[]): void {
  for (const window of windows) {
    // Scope keys come from requests: keep the gauge's cardinality bounded.
    if (budgetRatios.size >= MAX_GAUGED_WINDOWS && !budgetRatios.has(`${window.scope}|${window.window}`)) continue;
    budgetRatios.set(`${window.scope}|${window.window}`, {
      ratio: window.ratio,
      attributes: { [AttributeNames.SCOPE]: window.scope, [AttributeNames.BUDGET_WINDOW]: window.window },
    });
  }
}

/** Budget figures of the window closest to its limit, as span attributes. */
export function budgetAttributes(window: BudgetWindowStatus | undefined): Attributes {
  if (!window) return {};
  return {
    [AttributeNames.BUDGET_STATUS]: window.state,
    [AttributeNames.BUDGET_SPENT]: window.spentMicroUsd,
    [AttributeNames.BUDGET_RESERVED]: window.reservedMicroUsd,
    [AttributeNames.BUDGET_LIMIT]: window.limitMicroUsd,
    [AttributeNames.BUDGET_RATIO]: window.ratio,
    [AttributeNames.BUDGET_WINDOW]: `${window.scope}/${window.window}/${window.period}`,
  };
}

/** A failed call's `error.type`: the stable `code` of this library's HTTP errors, else the error's class. */
export function errorType(error: unknown): string {
  const body = (error as { getResponse?: () => unknown }).getResponse?.();
  if (typeof body === 'object' && body !== null && typeof (body as { code?: unknown }).code === 'string') return (body as { code: string }).code;
  return (error as Error)?.constructor?.name ?? 'Error';
}
