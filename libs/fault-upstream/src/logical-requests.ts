/** The request header that names the logical request an attempt belongs to: the same on each of its retries. */
export const LOGICAL_REQUEST_HEADER = 'x-logical-request';

/**
 * Tells retries from first attempts by the logical request ids seen so far. Bounded, so that a long
 * benchmark cannot grow it without end: past `maxRemembered` ids, the one least recently seen is
 * forgotten (a later retry of it would count as a first attempt).
 */
export class LogicalRequests {
  private readonly seen = new Set<string>();

  constructor(private readonly maxRemembered = 100_000) {}

  /** Records the attempt; true when its id came before. No id: every attempt is its own logical request. */
  isRetry(id: string | undefined): boolean {
    if (id === undefined || id === '') return false;
    const retry = this.seen.delete(id);
    // Insertion order is recency order: re-adding moves it to the end.
    this.seen.add(id);
    if (this.seen.size > this.maxRemembered) this.seen.delete(this.seen.values().next().value as string);
    return retry;
  }

  get size(): number {
    return this.seen.size;
  }

  clear(): void {
    this.seen.clear();
  }
}
