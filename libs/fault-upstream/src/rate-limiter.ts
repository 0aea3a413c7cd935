import { openAiError } from './openai-responses.js';
import type { RateLimitScript } from './rate-limit-script.js';
import { TokenBucket } from './token-bucket.js';

/** What OpenAI counts against the tokens limit for output when a request names no cap. */
export const DEFAULT_OUTPUT_TOKENS_COUNTED = 4096;

/**
 * The output tokens a rate limit counts before a request runs: its cap (`max_completion_tokens`,
 * `max_tokens`, `max_output_tokens`) times the choices it asks for (`n`), or the default cap.
 */
export function outputTokensCounted(cap: unknown, choices: unknown = 1): number {
  const perChoice = typeof cap === 'number' && Number.isFinite(cap) && cap >= 0 ? cap : DEFAULT_OUTPUT_TOKENS_COUNTED;
  return perChoice * (typeof choices === 'number' && Number.isSafeInteger(choices) && choices >= 1 ? choices : 1);
}

/**
 * A duration as OpenAI writes `x-ratelimit-reset-*` (Go's duration format): `20ms`, `1s`, `59.882s`,
 * `1m30.5s`, `6m0s`, `1h0m0s`. Rounded up to whole milliseconds, so that a client waiting that long
 * finds what it waited for.
 */
export function formatResetDuration(ms: number): string {
  const whole = Number.isFinite(ms) && ms > 0 ? Math.ceil(ms) : 0;
  if (whole === 0) return '0s';
  if (whole < 1000) return `${whole}ms`;
  const hours = Math.floor(whole / 3_600_000);
  const minutes = Math.floor((whole % 3_600_000) / 60_000);
  const seconds = `${(whole % 60_000) / 1000}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  return minutes > 0 ? `${minutes}m${seconds}` : seconds;
}

type Dimension = 'requests' | 'tokens';

const ABBREVIATION: Record<Dimension, string> = { requests: 'RPM', tokens: 'TPM' };

export interface RateLimitDecision {
  /** `x-ratelimit-*` of the dimensions configured, after this request's take: for every answer. */
  headers: Record<string, string>;
  /** Set when the request is refused: the 429's body and its `retry-after` headers. */
  refusal?: { body: ReturnType<typeof openAiError>; headers: Record<string, string> };
}

interface Need {
  dimension: Dimension;
  bucket: TokenBucket;
  amount: number;
  waitMs: number;
}

/** The buckets of a `RateLimitScript` in motion: admits a request or says how long until it would be. */
export class RateLimiter {
  private readonly buckets: Partial<Record<Dimension, TokenBucket>> = {};

  constructor(script: RateLimitScript, now: () => number) {
    const { requestsPerMinute, tokensPerMinute, windowMs, startLevel } = script;
    if (requestsPerMinute !== undefined) this.buckets.requests = new TokenBucket(requestsPerMinute, windowMs, startLevel, now);
    if (tokensPerMinute !== undefined) this.buckets.tokens = new TokenBucket(tokensPerMinute, windowMs, startLevel, now);
  }

  /** Whether the tokens limit is configured: when not, a request's tokens need not be counted. */
  get countsTokens(): boolean {
    return this.buckets.tokens !== undefined;
  }

  /** Takes one request and `tokens` from the buckets when both hold enough; otherwise takes nothing and refuses. */
  admit(tokens: number, model = 'this model'): RateLimitDecision {
    const tokenLimit = this.buckets.tokens?.limit;
    if (tokenLimit !== undefined && tokens > tokenLimit) {
      // No wait helps: OpenAI refuses it at once, without a retry-after.
      const message = `Request too large for ${model} on tokens per min (TPM): Limit ${tokenLimit}, Requested ${tokens}, which is larger than the limit. The input or output tokens must be reduced in order to run successfully.`;
      return { headers: this.headers(), refusal: { body: openAiError(message, 'tokens', 'rate_limit_exceeded'), headers: {} } };
    }
    const needs = this.needs(tokens);
    const longest = needs.reduce<Need | undefined>((worst, need) => (need.waitMs > (worst?.waitMs ?? 0) ? need : worst), undefined);
    if (longest) return { headers: this.headers(), refusal: refusalFor(longest, model) };
    for (const { bucket, amount } of needs) bucket.take(amount);
    return { headers: this.headers() };
  }

  private needs(tokens: number): Need[] {
    const amounts: Record<Dimension, number> = { requests: 1, tokens };
    return (Object.keys(this.buckets) as Dimension[]).map((dimension) => {
      const bucket = this.buckets[dimension] as TokenBucket;
      return { dimension, bucket, amount: amounts[dimension], waitMs: bucket.msUntilHolding(amounts[dimension]) };
    });
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const [dimension, bucket] of Object.entries(this.buckets)) {
      headers[`x-ratelimit-limit-${dimension}`] = String(bucket.limit);
      headers[`x-ratelimit-remaining-${dimension}`] = String(bucket.remaining());
      headers[`x-ratelimit-reset-${dimension}`] = formatResetDuration(bucket.msUntilFull());
    }
    return headers;
  }
}

function refusalFor({ dimension, bucket, amount, waitMs }: Need, model: string): NonNullable<RateLimitDecision['refusal']> {
  const used = bucket.limit - bucket.remaining();
  const message =
    `Rate limit reached for ${dimension} per min (${ABBREVIATION[dimension]}) on ${model}: ` +
    `Limit ${bucket.limit}, Used ${used}, Requested ${amount}. Please try again in ${formatResetDuration(waitMs)}.`;
  const headers = { 'retry-after': String(Math.ceil(waitMs / 1000)), 'retry-after-ms': String(Math.ceil(waitMs)) };
  return { body: openAiError(message, dimension, 'rate_limit_exceeded'), headers };
}
