import OpenAI from 'openai';
import pRetry from 'p-retry';
import { ExponentialBackoff, handleAll, retry } from 'cockatiel';

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

export interface Strategy {
  name: string;
  /** Builds the request function (and what must be closed afterwards). */
  create: (context: StrategyContext) => Promise<{ send: Send; close?: () => Promise<void> }>;
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

const attempt = (client: OpenAI, context: StrategyContext) => () =>
  client.chat.completions.create({ model: context.model, messages: [{ role: 'user', content: context.prompt }] });

/** A hand-written retry loop, the way a team writes one before it adopts a library. */
function loop(name: string, retries: number, delayMs: (retry: number) => number): Strategy {
  return {
    name,
    create: async (context) => {
      const once = attempt(sdk(context, 0), context);
      return {
        send: async () => {
          for (let retryIndex = 0; ; retryIndex++) {
            try {
              return await once();
            } catch (error) {
              if (retryIndex >= retries) throw error;
              await sleep(delayMs(retryIndex) * context.scale);
            }
          }
        },
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
    create: async (context) => ({ send: attempt(sdk(context, 2), context) }),
  },
  {
    name: 'openai SDK, maxRetries 5',
    create: async (context) => ({ send: attempt(sdk(context, 5), context) }),
  },
  {
    name: 'p-retry (3 retries)',
    create: async (context) => {
      const once = attempt(sdk(context, 0), context);
      return { send: () => pRetry(once, { retries: 3, factor: 2, minTimeout: 500 * context.scale, maxTimeout: 8_000 * context.scale, randomize: true }) };
    },
  },
  {
    name: 'cockatiel (3 retries)',
    create: async (context) => {
      const once = attempt(sdk(context, 0), context);
      const policy = retry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff({ initialDelay: 500 * context.scale, maxDelay: 8_000 * context.scale }) });
      return { send: () => policy.execute(once) };
    },
  },
];
