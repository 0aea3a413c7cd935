import { DEFAULT_BACKOFF_OPTIONS } from '../backoff/backoff-options.interface.js';
import { resolveBackoffOptions } from '../backoff/backoff-options.validation.js';
import { longestCallMs, optionalBoolean, optionalNumber, optionalString, optionError } from '../errors/option-checks.js';
import { ResilientLlmConfigurationError } from '../errors/resilient-llm-configuration.error.js';
import { PRICE_TABLE_SOURCE } from '../pricing/bundled-prices.js';
import { buildPriceTable, findPrice } from '../pricing/price-table.js';
import { DEFAULT_MAX_OUTPUT_TOKENS, checkMaxOutputTokens } from '../guarded/output-cap.js';
import { resolveBudgetOptions } from '../budget/budget-options.validation.js';
import { resolveStorageOptions, redactUrl } from '../storage/storage-options.validation.js';
import { resolveScopeExtractor } from '../http/scope-extractor.js';
import { resolveIdempotencyOptions } from '../idempotency/idempotency-options.validation.js';
import { resolveStormOptions } from '../storm/storm-options.validation.js';
import type { ResilientLlmModuleOptions, ResolvedResilientLlmOptions } from './resilient-llm-options.interface.js';

const DEFAULT_ATTEMPT_TIMEOUT_MS = 60_000;

function resolveClient(raw: ResilientLlmModuleOptions['client']): ResolvedResilientLlmOptions['client'] {
  const client = raw ?? {};
  const baseURL = optionalString('client.baseURL', client.baseURL);
  if (baseURL !== undefined && !/^https?:$/.test(URL.parse(baseURL)?.protocol ?? '')) {
    throw optionError('client.baseURL', 'an absolute http(s) URL', `"${redactUrl(baseURL)}"`);
  }
  const attemptTimeoutMs = optionalNumber('client.attemptTimeoutMs', client.attemptTimeoutMs, DEFAULT_ATTEMPT_TIMEOUT_MS, {
    unit: 'milliseconds',
    min: 0,
    exclusiveMin: true,
  });
  return Object.freeze({
    apiKey: optionalString('client.apiKey', client.apiKey),
    baseURL,
    attemptTimeoutMs,
    defaultHeaders: client.defaultHeaders,
  });
}

function resolveTelemetry(raw: ResilientLlmModuleOptions['telemetry']): ResolvedResilientLlmOptions['telemetry'] {
  const captureContent = optionalBoolean('telemetry.captureContent', raw?.captureContent, false);
  const providerName = optionalString('telemetry.providerName', raw?.providerName) ?? 'openai';
  return { captureContent, providerName };
}

/** Applies defaults and checks every option; a problem throws at startup, naming the option. */
export function resolveModuleOptions(raw: ResilientLlmModuleOptions | undefined): ResolvedResilientLlmOptions {
  const options = raw ?? {};
  if (typeof options !== 'object' || options === null) {
    throw new ResilientLlmConfigurationError('options', 'ResilientLlmModule.forRoot() takes an options object');
  }
  const priceTable = buildPriceTable(options.pricing);
  const defaultModel = optionalString('defaultModel', options.defaultModel) ?? 'gpt-4o-mini';
  if (!findPrice(priceTable, defaultModel)) {
    throw new ResilientLlmConfigurationError(
      'defaultModel',
      `"${defaultModel}" has no price in ${PRICE_TABLE_SOURCE}; add it to "pricing": { "${defaultModel}": { inputUsdPerMTok, outputUsdPerMTok } }`,
    );
  }
  const defaultMaxOutputTokens = checkMaxOutputTokens('defaultMaxOutputTokens', options.defaultMaxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS);
  const client = resolveClient(options.client);
  const backoff = resolveBackoffOptions('backoff', DEFAULT_BACKOFF_OPTIONS, options.backoff);
  const budget = resolveBudgetOptions(options.budget, { backoff, attemptTimeoutMs: client.attemptTimeoutMs, priceTable });
  return Object.freeze({
    client,
    backoff,
    defaultModel,
    priceTable,
    defaultMaxOutputTokens,
    budget,
    strictBackoff: budget.strictBackoff,
    storage: resolveStorageOptions(options.storage),
    idempotency: resolveIdempotencyOptions(options.idempotency, longestCallMs(backoff.deadlineMs, client.attemptTimeoutMs)),
    telemetry: resolveTelemetry(options.telemetry),
    stormControl: resolveStormOptions(options.stormControl, priceTable),
    extractScope: resolveScopeExtractor(options.scope),
  });
}
