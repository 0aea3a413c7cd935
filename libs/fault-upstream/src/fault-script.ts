/**
 * The fault script: what the upstream does to each request. One JSON form everywhere
 * (`UPSTREAM_FAULTS`, `PUT /_upstream/faults`, code):
 * { "seed": 7, "sequence": ["503", "429:retry-after=2", "ok"], "rates": { "503": 0.05 },
 *   "latencyMs": [20, 80], "outages": [{ "startMs": 0, "endMs": 5000, "fault": "503" }] }
 * `sequence` is consumed first, one entry per request; then each request draws from `rates`
 * (the rest succeed); a request inside an outage window gets the outage's fault instead.
 * `"stream_error:code=insufficient_quota"` answers 200 and fails inside the stream (see `streamErrorFor`).
 * `"rateLimit": { "requestsPerMinute": 60, "tokensPerMinute": 150000, "windowMs": 6000, "startLevel": 0 }`
 * puts a provider's rate limit in front of all that (see `RateLimitScript`).
 */
import { FaultScriptError } from './fault-script-error.js';
import { type RateLimitScript, parseRateLimit } from './rate-limit-script.js';

export { FaultScriptError } from './fault-script-error.js';
export type { RateLimitScript } from './rate-limit-script.js';

export const FAULT_KINDS = [
  'ok',
  '400',
  '401',
  '403',
  '404',
  '408',
  '409',
  '422',
  '429',
  '500',
  '502',
  '503',
  '504',
  'insufficient_quota',
  'context_length',
  'timeout',
  'reset',
  'stream_error',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface Fault {
  kind: FaultKind;
  /** `Retry-After` in seconds. */
  retryAfterSeconds?: number;
  /** `Retry-After` as an HTTP date this many seconds ahead. */
  retryAfterDateSeconds?: number;
  /** `retry-after-ms`. */
  retryAfterMs?: number;
  /** `x-should-retry`. */
  shouldRetry?: boolean;
  /** The error code a `stream_error` sends inside its stream (default `server_error`). */
  code?: string;
}

export interface OutageWindow {
  /** Window start and end, in milliseconds after the script was installed. */
  startMs: number;
  endMs: number;
  fault: Fault;
}

export interface FaultScript {
  seed: number;
  sequence: Fault[];
  rates: Array<{ fault: Fault; probability: number }>;
  /** Latency before answering, in milliseconds: uniform in [min, max]. */
  latencyMs: [number, number];
  outages: OutageWindow[];
  /** Delay between streamed chunks, in milliseconds (a slow stream). */
  streamChunkDelayMs: number;
  /** Tokens in each reply, at most the request's `max_completion_tokens` / `max_tokens`. */
  completionTokens: number;
  /**
   * A provider's rate limit, checked before the rest of the script: a request it refuses gets a 429
   * and uses up no fault. None (the default): no limit, and no `x-ratelimit-*` headers.
   */
  rateLimit?: RateLimitScript;
}

const PARAMS: Record<string, (fault: Fault, value: string, path: string) => void> = {
  'retry-after': (fault, value, path) => (fault.retryAfterSeconds = nonNegative(value, path)),
  'retry-after-date': (fault, value, path) => (fault.retryAfterDateSeconds = nonNegative(value, path)),
  'retry-after-ms': (fault, value, path) => (fault.retryAfterMs = nonNegative(value, path)),
  'x-should-retry': (fault, value, path) => {
    if (value !== 'true' && value !== 'false') throw new FaultScriptError(path, `x-should-retry must be true or false, got "${value}"`);
    fault.shouldRetry = value === 'true';
  },
  code: (fault, value, path) => {
    // It ends up in JSON sent to clients and in stats keys: keep it to what OpenAI codes look like.
    if (!/^[A-Za-z0-9_.-]+$/.test(value)) throw new FaultScriptError(path, `code must be letters, digits, "_", "." or "-", got "${value}"`);
    fault.code = value;
  },
};

function nonNegative(value: string, path: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < 0) {
    throw new FaultScriptError(path, `needs a number >= 0, got "${value}"`);
  }
  return number;
}

/**
 * "429:retry-after=2,x-should-retry=false" -> { kind: '429', retryAfterSeconds: 2, shouldRetry: false };
 * "stream_error:code=insufficient_quota" -> { kind: 'stream_error', code: 'insufficient_quota' }
 */
export function parseFault(token: unknown, path: string): Fault {
  if (typeof token !== 'string') throw new FaultScriptError(path, `must be a string like "503" or "429:retry-after=2", got ${JSON.stringify(token)}`);
  const [kind, params = ''] = token.split(/:(.*)/s, 2);
  if (!(FAULT_KINDS as readonly string[]).includes(kind)) {
    throw new FaultScriptError(path, `has unknown fault "${kind}"; known: ${FAULT_KINDS.join(', ')}`);
  }
  const fault: Fault = { kind: kind as FaultKind };
  for (const pair of params.split(',').filter(Boolean)) {
    const [name, value = ''] = pair.split('=', 2);
    const apply = Object.hasOwn(PARAMS, name.trim()) ? PARAMS[name.trim()] : undefined;
    if (!apply) throw new FaultScriptError(path, `has unknown parameter "${name}"; known: ${Object.keys(PARAMS).join(', ')}`);
    apply(fault, value.trim(), path);
  }
  // Any other fault would ignore it silently: a script that says so is a mistake.
  if (fault.code !== undefined && fault.kind !== 'stream_error') throw new FaultScriptError(path, `has "code", which only stream_error takes`);
  return fault;
}

function parseLatency(value: unknown): [number, number] {
  if (value === undefined) return [0, 0];
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return [value, value];
  if (Array.isArray(value) && value.length === 2 && value.every((n) => typeof n === 'number' && Number.isFinite(n) && n >= 0) && value[0] <= value[1]) {
    return [value[0], value[1]];
  }
  throw new FaultScriptError('latencyMs', `must be a number of milliseconds >= 0 or [min, max] with min <= max, got ${JSON.stringify(value)}`);
}

function parseOutage(value: unknown, index: number): OutageWindow {
  const path = `outages[${index}]`;
  if (typeof value !== 'object' || value === null) throw new FaultScriptError(path, 'must be { startMs, endMs, fault }');
  const { startMs, endMs, fault = '503' } = value as Record<string, unknown>;
  if (typeof startMs !== 'number' || typeof endMs !== 'number' || !(startMs >= 0) || !(endMs > startMs)) {
    throw new FaultScriptError(path, `needs 0 <= startMs < endMs, got ${JSON.stringify({ startMs, endMs })}`);
  }
  return { startMs, endMs, fault: parseFault(fault, `${path}.fault`) };
}

/** Validates a fault script (an object or its JSON text); an error names the offending field. */
export function parseFaultScript(input: unknown): FaultScript {
  let raw = input;
  if (typeof input === 'string') {
    try {
      raw = input.trim() === '' ? {} : JSON.parse(input);
    } catch (error) {
      throw new FaultScriptError('(json)', `is not valid JSON: ${(error as Error).message}`);
    }
  }
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new FaultScriptError('(root)', 'must be a JSON object');
  const known = new Set(['seed', 'sequence', 'rates', 'latencyMs', 'outages', 'streamChunkDelayMs', 'completionTokens', 'rateLimit']);
  const script = raw as Record<string, unknown>;
  for (const key of Object.keys(script)) {
    if (!known.has(key)) throw new FaultScriptError(key, `is not a fault script field; known: ${[...known].join(', ')}`);
  }

  const seed = script.seed ?? 1;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) throw new FaultScriptError('seed', `must be a whole number, got ${JSON.stringify(seed)}`);

  const sequence = script.sequence ?? [];
  if (!Array.isArray(sequence)) throw new FaultScriptError('sequence', 'must be an array of fault strings');

  const ratesInput = script.rates ?? {};
  if (typeof ratesInput !== 'object' || ratesInput === null || Array.isArray(ratesInput)) {
    throw new FaultScriptError('rates', 'must be an object of { fault: probability }');
  }
  const rates = Object.entries(ratesInput).map(([token, probability]) => {
    if (typeof probability !== 'number' || !(probability >= 0 && probability <= 1)) {
      throw new FaultScriptError(`rates.${token}`, `must be a probability in [0, 1], got ${JSON.stringify(probability)}`);
    }
    return { fault: parseFault(token, `rates.${token}`), probability };
  });
  const total = rates.reduce((sum, rate) => sum + rate.probability, 0);
  if (total > 1 + 1e-9) throw new FaultScriptError('rates', `probabilities add up to ${total}, more than 1`);

  const outages = script.outages ?? [];
  if (!Array.isArray(outages)) throw new FaultScriptError('outages', 'must be an array of { startMs, endMs, fault }');

  const streamChunkDelayMs = script.streamChunkDelayMs ?? 0;
  if (typeof streamChunkDelayMs !== 'number' || !(streamChunkDelayMs >= 0)) {
    throw new FaultScriptError('streamChunkDelayMs', `must be a number of milliseconds >= 0, got ${JSON.stringify(streamChunkDelayMs)}`);
  }

  const completionTokens = script.completionTokens ?? 24;
  if (typeof completionTokens !== 'number' || !Number.isSafeInteger(completionTokens) || completionTokens < 1) {
    throw new FaultScriptError('completionTokens', `must be a whole number >= 1, got ${JSON.stringify(completionTokens)}`);
  }

  return {
    seed,
    sequence: sequence.map((token, index) => parseFault(token, `sequence[${index}]`)),
    rates,
    latencyMs: parseLatency(script.latencyMs),
    outages: outages.map(parseOutage),
    streamChunkDelayMs,
    completionTokens,
    ...(script.rateLimit !== undefined && { rateLimit: parseRateLimit(script.rateLimit) }),
  };
}
