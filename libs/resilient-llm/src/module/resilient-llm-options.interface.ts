import type { LlmClientOptions, ResolvedLlmClientOptions } from '../client/llm-client-options.interface.js';
import type { ScopeExtractor, ScopeOptions } from '../http/scope-extractor.js';
import type { BackoffOptions, ResolvedBackoffOptions } from '../backoff/backoff-options.interface.js';
import type { BudgetOptions, ResolvedBudgetOptions } from '../budget/budget-options.interface.js';
import type { IdempotencyOptions, ResolvedIdempotencyOptions } from '../idempotency/idempotency-options.interface.js';
import type { ResolvedStorageOptions, StorageOptions } from '../storage/storage-options.interface.js';
import type { ResolvedStormOptions, StormControlOptions } from '../storm/storm-options.interface.js';
import type { ModelPrice } from '../pricing/model-price.interface.js';
import type { PriceTable } from '../pricing/price-table.js';

export type { LlmClientOptions };

export interface ResilientLlmModuleOptions {
  /** How `ResilientLlmClient` reaches the provider. */
  client?: LlmClientOptions;
  /** Delays, attempts and deadline for every guarded call; `@Guarded` can narrow them per handler. */
  backoff?: BackoffOptions;
  /** Model used when a guarded call or request names none. Default `'gpt-4o-mini'`. */
  defaultModel?: string;
  /**
   * Prices (USD per million tokens) by model name, over the bundled `@pydantic/genai-prices`
   * table: an entry replaces the table's price for its model, or prices a model it lacks.
   */
  pricing?: Record<string, ModelPrice>;
  /**
   * The output cap (tokens) set on a chat completion (`max_completion_tokens`) or Responses
   * request (`max_output_tokens`) that has none, so that no request is unbounded; a handler's
   * `@Guarded({ maxOutputTokens })` wins. Its price is part of each request's worst case.
   * A whole number from 1 to 1 000 000. Default 4096.
   */
  defaultMaxOutputTokens?: number;
  /** Spend limits per window and scope. Without limits no budget is kept and nothing is stored. */
  budget?: BudgetOptions;
  /** Where budgets and idempotency records are stored (opened only when one of them is used). */
  storage?: StorageOptions;
  /** The Idempotency-Key protocol of `@Idempotent` handlers. */
  idempotency?: IdempotencyOptions;
  /** Anti-storm controls across calls: retry budget, circuit breaker, concurrency limit, fallback models. */
  stormControl?: StormControlOptions;
  /** Spans and metrics (through `@opentelemetry/api`; they cost nothing without an SDK). */
  telemetry?: {
    /** Record prompts and completions on attempt spans (`gen_ai.input.messages` / `gen_ai.output.messages`). Default false. */
    captureContent?: boolean;
    /** `gen_ai.provider.name` on attempt spans. Default `'openai'`. */
    providerName?: string;
  };
  /**
   * The caller's scope key (tenant, user, API key id, ...) for per-scope budgets: a request
   * header to read, or a function of the execution context. None by default (global only).
   */
  scope?: ScopeOptions;
}

/** Options after defaults and validation; what the module's providers receive. */
export interface ResolvedResilientLlmOptions {
  client: ResolvedLlmClientOptions;
  backoff: ResolvedBackoffOptions;
  defaultModel: string;
  priceTable: PriceTable;
  defaultMaxOutputTokens: number;
  budget: ResolvedBudgetOptions;
  /** The strict-mode backoff, resolved over `backoff`. */
  strictBackoff: ResolvedBackoffOptions;
  storage: ResolvedStorageOptions;
  idempotency: ResolvedIdempotencyOptions;
  telemetry: { captureContent: boolean; providerName: string };
  stormControl: ResolvedStormOptions;
  extractScope?: ScopeExtractor;
}
