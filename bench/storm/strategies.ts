import OpenAI from 'openai';
import pRetry from 'p-retry';
import { ExponentialBackoff, handleAll, retry } from 'cockatiel';
import { MAX_TOKENS, logicalRequestHeaders } from './request-shape.js';

/** One client request as a strategy makes it: resolves when it succeeded, rejects when it gave up. */
export type Send = () => Promise<unknown>;

export interface StrategyContext {
  baseURL: string;
  scale: number;
  model: string;
  prompt: string;
  /** Unscaled per-attempt timeout. */
  attemptTimeoutMs: number;
}

export interface StrategyInstance {
  send: Send;
  close?: () => Promise<void>;
  /** A fleet's replicas: the epoch milliseconds of each one's first circuit opening, undefined for one that never opened. */
  circuitOpenings?: () => Array<number | undefined>;
}

export interface Strategy {
  name: string;
  /** Builds the request function (and what must be closed afterwards). */
  create: (context: StrategyContext) => Promise<StrategyInstance>;
  /** Frees what outlives one instance (a fleet's processes), once every run of the strategy is over. */
  dispose?: () => Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type RetryDelay = (retriesRemaining: number, maxRetries: number) => number;

/** The SDK, with its own retry delays shrunk by the time scale (server-requested waits come pre-scaled). */
function sdk(context: StrategyContext, maxRetries: number): OpenAI {
  const client = new OpenAI({ apiKey: 'bench', baseURL: context.baseURL, maxRetries, timeout: Math.max(1, context.attemptTimeoutMs * context.scale) });
  // Private in the SDK's types, an ordinary method at run time: shadow it on this instance.
  const patchable = client as unknown as { calculateDefaultRetryTimeoutMillis: RetryDelay };
  const computed = patchable.calculateDefaultRetryTimeoutMillis.bind(client);
  patchable.calculateDefaultRetryTimeoutMillis = (remaining, max) => computed(remaining, max) * context.scale;
  return client;
}

/** One attempt of a logical request; the SDK's own retries resend the same per-request headers. */
const attempt = (client: OpenAI, context: StrategyContext) => (headers: Record<string, string>) =>
  client.chat.completions.create({ model: context.model, messages: [{ role: 'user', content: context.prompt }], max_tokens: MAX_TOKENS }, { headers });

/** A logical request made of attempts that all carry its id. */
const logical = (once: (headers: Record<string, string>) => Promise<unknown>, retrying: (attemptOnce: () => Promise<unknown>) => Promise<unknown>): Send => () => {
  const headers = logicalRequestHeaders();
  return retrying(() => once(headers));
};

/** A hand-written retry loop, the way a team writes one before it adopts a library. */
function loop(name: string, retries: number, delayMs: (retry: number) => number): Strategy {
  return {
    name,
    create: async (context) => {
      const once = attempt(sdk(context, 0), context);
      return {
        send: logical(once, async (attemptOnce) => {
          for (let retryIndex = 0; ; retryIndex++) {
            try {
              return await attemptOnce();
            } catch (error) {
              if (retryIndex >= retries) throw error;
              await sleep(delayMs(retryIndex) * context.scale);
            }
          }
        }),
      };
    },
  };
}

const exponential = (retry: number) => Math.min(8_000, 500 * 2 ** retry);

export const PEER_STRATEGIES: Strategy[] = [
  loop('no retry', 0, () => 0),
  loop('fixed, 3 retries', 3, () => 1_000),
  loop('exponential', 3, exponential),
  loop('exponential + full jitter', 3, (retry) => Math.random() * exponential(retry)),
  loop('bounded jitter (0.5x-1.5x)', 3, (retry) => exponential(retry) * (0.5 + Math.random())),
  {
    name: 'openai SDK, maxRetries 2',
    create: async (context) => ({ send: logical(attempt(sdk(context, 2), context), (attemptOnce) => attemptOnce()) }),
  },
  {
    name: 'openai SDK, maxRetries 5',
    create: async (context) => ({ send: logical(attempt(sdk(context, 5), context), (attemptOnce) => attemptOnce()) }),
  },
  {
    name: 'p-retry (3 retries)',
    create: async (context) => {
      const once = attempt(sdk(context, 0), context);
      return { send: logical(once, (attemptOnce) => pRetry(attemptOnce, { retries: 3, factor: 2, minTimeout: 500 * context.scale, maxTimeout: 8_000 * context.scale, randomize: true })) };
    },
  },
  {
    name: 'cockatiel (3 retries)',
    create: async (context) => {
      const once = attempt(sdk(context, 0), context);
      const policy = retry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff({ initialDelay: 500 * context.scale, maxDelay: 8_000 * context.scale }) });
      return { send: logical(once, (attemptOnce) => policy.execute(attemptOnce)) };
    },
  },
];
