import type { BackoffOptions, ResolvedBackoffOptions } from '../backoff/backoff-options.interface.js';
import { DEFAULT_BACKOFF_OPTIONS } from '../backoff/backoff-options.interface.js';
import { resolveBackoffOptions } from '../backoff/backoff-options.validation.js';
import { checkNumber, optionalChoice, optionError } from '../errors/option-checks.js';
import { ResilientLlmConfigurationError } from '../errors/resilient-llm-configuration.error.js';
import { checkMaxOutputTokens } from './output-cap.js';
import type { RetryMode } from './guarded-call.context.js';

const RETRY_MODES: readonly RetryMode[] = ['request', 'handler'];
const ESTIMATED_TOKENS = { integer: true, min: 1, max: Number.MAX_SAFE_INTEGER, accepted: 'a positive whole number of tokens' };

export interface GuardedOptions {
  /** Tokens (prompt + completion) one attempt is expected to use; a positive whole number. Their worst-case price is reserved. */
  estimatedTokens: number;
  /** Model the call is priced at (and the client's default model inside it); the module's `defaultModel` when omitted. */
  model?: string;
  /** Backoff settings for this handler, merged over the module's (checked against them at startup). */
  backoff?: BackoffOptions;
  /** A fixed budget scope key for this handler (e.g. `'reports'`) instead of the caller's. */
  scope?: string;
  /**
   * The output cap (tokens, 1 to 1 000 000) set on this handler's chat and Responses requests
   * that have none; the module's `defaultMaxOutputTokens` when omitted.
   */
  maxOutputTokens?: number;
  /**
   * What is retried after a retryable upstream failure. `'request'` (default): that upstream
   * request, inside the handler, which runs once. `'handler'`: the whole handler, for pure
   * handlers that call an LLM through something the guarded transport cannot see.
   */
  retry?: RetryMode;
}

export interface GuardedMetadata extends GuardedOptions {
  /** Where the decorator was applied, for messages: `@Guarded() on ChatController.reply`. */
  source: string;
}

// Field by field only: whether capMs >= baseMs holds depends on the module's settings, checked at startup.
const PERMISSIVE_BASE = { ...DEFAULT_BACKOFF_OPTIONS, baseMs: 0, capMs: Number.MAX_SAFE_INTEGER };

/** Checks `@Guarded(...)` arguments where the decorator is applied, so a bad one stops the app from booting. */
export function normalizeGuardedOptions(argument: number | GuardedOptions, source: string): Readonly<GuardedMetadata> {
  const options = typeof argument === 'number' ? { estimatedTokens: argument } : argument;
  if (typeof options !== 'object' || options === null) {
    throw new ResilientLlmConfigurationError(source, 'takes a token estimate or { estimatedTokens, model?, backoff?, scope?, retry?, maxOutputTokens? }');
  }
  const { estimatedTokens, model, backoff, scope, retry, maxOutputTokens } = options;
  checkNumber(`${source}: estimatedTokens`, estimatedTokens, ESTIMATED_TOKENS);
  for (const [name, value] of [['model', model], ['scope', scope]] as const) {
    if (value !== undefined && (typeof value !== 'string' || value.trim() === '')) throw optionError(`${source}: ${name}`, 'a non-empty string', value);
  }
  if (retry !== undefined) optionalChoice(`${source}: retry`, retry, RETRY_MODES, 'request');
  if (maxOutputTokens !== undefined) checkMaxOutputTokens(`${source}: maxOutputTokens`, maxOutputTokens);
  if (backoff !== undefined) resolveBackoffOptions(`${source}: backoff`, PERMISSIVE_BASE, backoff);
  return Object.freeze({ estimatedTokens, model, scope, source, retry, maxOutputTokens, backoff: backoff && Object.freeze({ ...backoff }) });
}

/** The guarded call runner's slice of the resolved module options (token `RESILIENT_LLM_GUARDED_SETTINGS`). */
export interface GuardedSettings {
  readonly backoff: ResolvedBackoffOptions;
  /** The strict-mode backoff, resolved over `backoff`. */
  readonly strictBackoff: ResolvedBackoffOptions;
  readonly defaultModel: string;
}
