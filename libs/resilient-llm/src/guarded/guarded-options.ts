import type { BackoffOptions } from '../backoff/backoff-options.interface.js';
import { DEFAULT_BACKOFF_OPTIONS } from '../backoff/backoff-options.interface.js';
import { resolveBackoffOptions } from '../backoff/backoff-options.validation.js';
import { ResilientLlmConfigurationError } from '../errors/resilient-llm-configuration.error.js';

export interface GuardedOptions {
  /** Tokens (prompt + completion) one attempt is expected to use; a positive whole number. */
  estimatedTokens: number;
  /** Model the call is priced at; the module's `defaultModel` when omitted. */
  model?: string;
  /** Backoff settings for this handler, merged over the module's. */
  backoff?: BackoffOptions;
}

/** Checks `@Guarded(...)` arguments where the decorator is applied, so a bad one stops the app from booting. */
export function normalizeGuardedOptions(argument: number | GuardedOptions, where: string): Readonly<GuardedOptions> {
  const options = typeof argument === 'number' ? { estimatedTokens: argument } : argument;
  if (typeof options !== 'object' || options === null) {
    throw new ResilientLlmConfigurationError(where, 'takes a token estimate or { estimatedTokens, model?, backoff? }');
  }
  const { estimatedTokens, model, backoff } = options;
  if (typeof estimatedTokens !== 'number' || !Number.isSafeInteger(estimatedTokens) || estimatedTokens <= 0) {
    throw new ResilientLlmConfigurationError(`${where}: estimatedTokens`, `must be a positive whole number of tokens, got ${String(estimatedTokens)}`);
  }
  if (model !== undefined && (typeof model !== 'string' || model.trim() === '')) {
    throw new ResilientLlmConfigurationError(`${where}: model`, `must be a non-empty string, got ${String(model)}`);
  }
  // Checked against the defaults here; merged over the module's own settings at the first call.
  if (backoff !== undefined) resolveBackoffOptions(`${where}: backoff`, DEFAULT_BACKOFF_OPTIONS, backoff);
  return Object.freeze({ estimatedTokens, model, backoff: backoff && Object.freeze({ ...backoff }) });
}
