import type { Redis, RedisOptions } from 'ioredis';
import type { FleetScript } from './fleet.scripts.js';
import type { FleetOutageLog } from './fleet-outage.log.js';
import type { ResolvedFleetOptions } from './fleet-options.interface.js';
import { isRedisClient } from './fleet-options.validation.js';
import type { Timers } from '../../time/timers.js';
import { DeadlineExpiredError, startDeadline } from './fleet-deadline.js';
import { FleetUnavailableError } from './fleet-unavailable.error.js';

/**
 * After a command outlasts its deadline on a connected client (a Redis paused, a network that
 * drops packets without a reset), the others fail at once for this long, in milliseconds, and
 * then one is let through to test it: a request should pay the timeout once, not on every call.
 */
const HOLD_OFF_AFTER_TIMEOUT_MS = 1_000;

/**
 * Options every client of ours gets: connect on first use; refuse commands at once while
 * disconnected instead of queueing them behind a reconnect; let nothing wait past the timeout.
 * The user's options win except where waiting on Redis would block a request.
 */
export function fleetClientOptions(commandTimeoutMs: number, options: RedisOptions = {}): RedisOptions {
  return { connectTimeout: 2_000, maxRetriesPerRequest: 0, commandTimeout: commandTimeoutMs, ...options, lazyConnect: true, enableOfflineQueue: false };
}

/**
 * One command connection to Redis, owned (made from a URL or options, closed here) or borrowed
 * (the user's client, left open). Every command settles within `commandTimeoutMs`, connected
 * or not, and every failure becomes a `FleetUnavailableError`. ioredis is loaded only when a
 * client is made, so that an app without fleet options needs no ioredis installed.
 */
export class FleetConnection {
  readonly owned: boolean;
  private client: Promise<Redis> | undefined;
  private current: Redis | undefined;
  private initialConnect: Promise<void> | undefined;
  /** Cleared once the first connection is made, fails, or outlasts one deadline: from then on, not connected means fail at once. */
  private awaitingFirstConnection = true;
  private holdOffUntil = 0;
  private closed = false;
  private readonly onError = (error: Error) => this.outage.failed('Redis connection', error);

  constructor(
    private readonly target: ResolvedFleetOptions['redis'],
    readonly commandTimeoutMs: number,
    private readonly timers: Timers,
    private readonly outage: FleetOutageLog,
  ) {
    this.owned = !isRedisClient(target);
  }

  /** The command client, made on first use. */
  redis(): Promise<Redis> {
    this.client ??= this.create();
    return this.client;
  }

  /** Runs one command (or a pipeline) against Redis within the command timeout. */
  async run<T>(what: string, command: (client: Redis) => Promise<T>): Promise<T> {
    const deadline = startDeadline(this.timers, this.commandTimeoutMs);
    let sent = false;
    try {
      if (this.timers.now() < this.holdOffUntil) throw new Error('Redis timed out a moment ago');
      const client = await Promise.race([this.ready(), deadline.expired]);
      sent = true;
      const reply = command(client);
      // When the deadline wins, a late failure of the command is nobody's to handle.
      reply.catch(() => undefined);
      const result = await Promise.race([reply, deadline.expired]);
      this.outage.recovered();
      return result;
    } catch (error) {
      // One request paying the deadline for a Redis that hangs on connect is enough.
      if (!sent) this.awaitingFirstConnection = false;
      if (sent && isTimeout(error)) this.holdOffUntil = this.timers.now() + HOLD_OFF_AFTER_TIMEOUT_MS;
      this.outage.failed(what, error);
      throw new FleetUnavailableError(`${what}: ${error instanceof Error ? error.message : String(error)}`, sent, { cause: error });
    } finally {
      deadline.cancel();
    }
  }

  /** A Lua script by its SHA, loading it on the first NOSCRIPT (a fresh or flushed Redis). */
  evaluate(what: string, script: FleetScript, keys: string[], args: Array<string | number>): Promise<unknown> {
    return this.run(what, async (client) => {
      try {
        return await client.evalsha(script.sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return client.eval(script.lua, keys.length, ...keys, ...args);
      }
    });
  }

  /** Closes an owned client (QUIT when it is connected, else at once); a borrowed one is only let go. */
  async close(): Promise<void> {
    this.closed = true;
    const client = await this.client?.catch(() => undefined);
    if (!client) return;
    if (this.owned) await closeClient(client, this.commandTimeoutMs, this.timers);
    else client.off('error', this.onError);
  }

  private async create(): Promise<Redis> {
    const target = this.target;
    let client: Redis;
    if (isRedisClient(target)) client = target;
    else {
      const { Redis } = await import('ioredis');
      client = typeof target === 'string' ? new Redis(target, fleetClientOptions(this.commandTimeoutMs)) : new Redis(fleetClientOptions(this.commandTimeoutMs, target));
    }
    client.on('error', this.onError);
    this.current = client;
    return client;
  }

  /**
   * The client once a command may be sent. Only the first connection is waited for (within one
   * deadline); afterwards a disconnected client fails at once, so that an outage costs requests
   * nothing while ioredis reconnects in the background.
   */
  private async ready(): Promise<Redis> {
    if (this.closed) throw new Error('the fleet link is closed');
    const client = this.current ?? (await this.redis());
    const status = client.status;
    if (status === 'ready') return client;
    if (!this.initialConnect && status !== 'end') {
      this.initialConnect = status === 'wait' ? client.connect() : firstReady(client);
      const settled = () => (this.awaitingFirstConnection = false);
      this.initialConnect.then(settled, settled);
    }
    if (!this.initialConnect || !this.awaitingFirstConnection) throw new Error(`Redis is not connected (${status})`);
    await this.initialConnect;
    return client;
  }
}

function isTimeout(error: unknown): boolean {
  // ioredis's own `commandTimeout` may fire first.
  return error instanceof DeadlineExpiredError || (error instanceof Error && error.message === 'Command timed out');
}

/** The next `ready` of a client that is connecting already; its next `close` is a failure. */
function firstReady(client: Redis): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const ready = () => {
      client.off('close', closed);
      resolve();
    };
    const closed = () => {
      client.off('ready', ready);
      reject(new Error('the connection to Redis closed before it was ready'));
    };
    client.once('ready', ready);
    client.once('close', closed);
  });
}

/** QUIT within the timeout when connected, so that replies in flight arrive; then drop the socket whatever happened. */
export async function closeClient(client: Redis, timeoutMs: number, timers: Timers): Promise<void> {
  // Commands cut short by closing fail with errors that say nothing about Redis's health.
  client.removeAllListeners('error');
  client.removeAllListeners('ready');
  client.on('error', () => undefined);
  if (client.status === 'ready') {
    const deadline = startDeadline(timers, timeoutMs);
    try {
      await Promise.race([client.quit(), deadline.expired]);
    } catch {
      // Closing anyway.
    } finally {
      deadline.cancel();
    }
  }
  if (client.status !== 'end') client.disconnect();
}
