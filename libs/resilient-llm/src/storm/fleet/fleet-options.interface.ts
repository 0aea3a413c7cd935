import type { Redis, RedisOptions } from 'ioredis';

/**
 * Opt-in fleet-wide storm state: the retry budget, circuit states and rate-limit pacing of each
 * upstream shared by every replica through one Redis. Without it each process keeps its own.
 */
export interface FleetOptions {
  /**
   * A `redis://` URL, ioredis options, or a connected ioredis client. A client passed in stays
   * the caller's (never closed here); a URL or options make a client of the library's own,
   * closed on shutdown.
   */
  redis: string | RedisOptions | Redis;
  /** Prepended to every key and channel, so that several apps can share one Redis. Default `'resilient-llm:'`. */
  keyPrefix?: string;
  /** How often each replica pushes its retry-budget changes and adopts the fleet's level, in milliseconds. Default 200. */
  syncMs?: number;
  /** The longest a request waits on Redis before it goes on with local state, in milliseconds. Default 250. */
  commandTimeoutMs?: number;
}

export interface ResolvedFleetOptions {
  redis: string | RedisOptions | Redis;
  keyPrefix: string;
  syncMs: number;
  commandTimeoutMs: number;
}
