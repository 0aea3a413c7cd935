import type { Redis } from 'ioredis';
import { closeClient, type FleetConnection } from './fleet.connection.js';
import type { FleetOutageLog } from './fleet-outage.log.js';
import type { Timers } from '../../time/timers.js';

/** What a replica tells the others about one circuit; `openedAt` in epoch milliseconds of the replica's clock. */
export interface FleetCircuitSnapshot {
  state: 'closed' | 'open' | 'half_open';
  openedAt: number;
}

/** `origin`: the instance id of the replica that published the snapshot. */
export type FleetCircuitListener = (key: string, snapshot: FleetCircuitSnapshot, origin: string) => void;

/** The stored value and the message are the same JSON. */
interface CircuitRecord extends FleetCircuitSnapshot {
  key: string;
  origin: string;
}

const STATES = new Set(['closed', 'open', 'half_open']);

export function encodeCircuit(key: string, snapshot: FleetCircuitSnapshot, origin: string): string {
  return JSON.stringify({ key, state: snapshot.state, openedAt: snapshot.openedAt, origin } satisfies CircuitRecord);
}

/** A record from Redis, or undefined when it is not one of ours (another writer, another version). */
export function decodeCircuit(text: string | null): CircuitRecord | undefined {
  if (!text) return undefined;
  try {
    const record = JSON.parse(text) as Partial<CircuitRecord>;
    const valid = typeof record.key === 'string' && typeof record.origin === 'string' && STATES.has(record.state as string) && Number.isFinite(record.openedAt);
    return valid ? (record as CircuitRecord) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The subscriber side of the circuits: a connection of its own (a subscribed connection can
 * send nothing else), opened when the first listener arrives. Each time it (re)subscribes it
 * rereads the circuits this process knows, since messages sent while it was away are lost.
 */
export class FleetCircuitChannel {
  private subscriber: Promise<Redis | undefined> | undefined;
  private closed = false;
  private readonly listeners = new Set<FleetCircuitListener>();
  private readonly known = new Set<string>();

  constructor(
    private readonly connection: FleetConnection,
    private readonly channel: string,
    private readonly storageKey: (key: string) => string,
    private readonly instanceId: string,
    private readonly outage: FleetOutageLog,
    private readonly timers: Timers,
  ) {}

  listen(listener: FleetCircuitListener): () => void {
    this.listeners.add(listener);
    this.start();
    return () => this.listeners.delete(listener);
  }

  /** A circuit this process cares about: reread after a reconnect. */
  remember(key: string): void {
    this.known.add(key);
  }

  async close(): Promise<void> {
    this.closed = true;
    const subscriber = await this.subscriber;
    if (subscriber) await closeClient(subscriber, this.connection.commandTimeoutMs, this.timers);
  }

  private start(): void {
    this.subscriber ??= this.open().catch((error: unknown) => {
      this.outage.failed('Redis subscriber', error);
      return undefined;
    });
  }

  private async open(): Promise<Redis | undefined> {
    const client = await this.connection.redis();
    if (this.closed) return undefined;
    // Our own connection even when the command client is the user's: never quit theirs, always close this.
    const subscriber = client.duplicate({ lazyConnect: true, enableOfflineQueue: false, autoResubscribe: false });
    subscriber.on('error', (error: Error) => this.outage.failed('Redis subscriber', error));
    subscriber.on('ready', () => void this.subscribe(subscriber));
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.deliver(decodeCircuit(message));
    });
    subscriber.connect().catch(() => undefined);
    return subscriber;
  }

  private async subscribe(subscriber: Redis): Promise<void> {
    try {
      await subscriber.subscribe(this.channel);
    } catch (error) {
      this.outage.failed('Redis SUBSCRIBE', error);
      return;
    }
    await this.resync().catch(() => undefined);
  }

  private async resync(): Promise<void> {
    const keys = [...this.known];
    if (keys.length === 0) return;
    const values = await this.connection.run('circuit resync', (client) => client.mget(keys.map(this.storageKey)));
    for (const value of values) this.deliver(decodeCircuit(value));
  }

  private deliver(record: CircuitRecord | undefined): void {
    if (!record || record.origin === this.instanceId) return;
    this.known.add(record.key);
    const snapshot: FleetCircuitSnapshot = { state: record.state, openedAt: record.openedAt };
    for (const listener of [...this.listeners]) {
      try {
        listener(record.key, snapshot, record.origin);
      } catch {
        // A listener's bug must not stop the others nor the subscriber.
      }
    }
  }
}
