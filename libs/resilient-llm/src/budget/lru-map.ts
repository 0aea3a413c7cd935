/** A Map that keeps at most `capacity` entries, dropping the least recently used one first. */
export class LruMap<K, V> {
  private readonly entries = new Map<K, V>();
  /** The key used last: asked for again (one scope, calls in a row), it is already where a move would put it. */
  private newest?: K;

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The value, which becomes the most recently used. */
  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined || key === this.newest) return value;
    // A Map iterates in insertion order: moving the key to the end keeps the oldest first.
    this.entries.delete(key);
    this.entries.set(key, value);
    this.newest = key;
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    this.newest = key;
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as K);
  }

  /** Drops every entry for which `expired` says so. */
  prune(expired: (value: V) => boolean): void {
    for (const [key, value] of this.entries) if (expired(value)) this.entries.delete(key);
  }
}
