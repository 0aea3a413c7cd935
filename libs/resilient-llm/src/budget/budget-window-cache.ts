import type { BudgetWindowRow } from './budget-store.interface.js';
import { LruMap } from './lru-map.js';

/** Scope keys come from requests (one per tenant, user, API key): what is kept per scope is bounded. */
export const MAX_CACHED_SCOPES = 10_000;
const WINDOWS_PER_SCOPE = 2;

const current = (windows: readonly BudgetWindowRow[], now: number) => windows.every((window) => now >= window.startsAt && now < window.endsAt);

/**
 * What the guard remembers per scope, least recently used first out: the calendar windows of a
 * scope (valid until the earliest of them ends: computing them takes ~10 Intl calls), and which
 * windows the store already has with their current limit (so that a call costs no upsert).
 */
export class BudgetWindowCache {
  private readonly windowsByScope: LruMap<string, BudgetWindowRow[]>;
  /** `${window id}@${limit}` of windows known to be in the store, with when they end. */
  private readonly stored: LruMap<string, number>;
  /** The same, by the cached rows themselves: a call asks about its scope's rows, and this costs no key to build. */
  private readonly storedRows = new WeakSet<BudgetWindowRow>();

  constructor(maxScopes = MAX_CACHED_SCOPES) {
    this.windowsByScope = new LruMap(maxScopes);
    this.stored = new LruMap(maxScopes * WINDOWS_PER_SCOPE);
  }

  /** The scope's windows at `now`, computed again once one of them has ended. */
  windowsFor(scope: string, now: number, compute: () => BudgetWindowRow[]): BudgetWindowRow[] {
    const cached = this.windowsByScope.get(scope);
    if (cached && current(cached, now)) return cached;
    const windows = compute();
    this.windowsByScope.set(scope, windows);
    return windows;
  }

  /** The windows the store may not have yet (or not with this limit). */
  notStored(windows: readonly BudgetWindowRow[]): BudgetWindowRow[] {
    return windows.every((window) => this.storedRows.has(window)) ? [] : windows.filter((window) => !this.isStored(window));
  }

  /** The windows this process has written to the store, with this limit. */
  written(windows: readonly BudgetWindowRow[]): readonly BudgetWindowRow[] {
    return windows.every((window) => this.storedRows.has(window)) ? windows : windows.filter((window) => this.isStored(window));
  }

  markStored(windows: readonly BudgetWindowRow[]): void {
    for (const window of windows) {
      this.stored.set(`${window.id}@${window.limitMicro}`, window.endsAt);
      this.storedRows.add(window);
    }
  }

  private isStored(window: BudgetWindowRow): boolean {
    if (this.storedRows.has(window)) return true;
    if (this.stored.get(`${window.id}@${window.limitMicro}`) === undefined) return false;
    this.storedRows.add(window);
    return true;
  }

  /** Forgets windows that have ended: no call asks for them again. */
  prune(now: number): void {
    this.windowsByScope.prune((windows) => !current(windows, now));
    this.stored.prune((endsAt) => endsAt <= now);
  }

  get size(): { scopes: number; storedWindows: number } {
    return { scopes: this.windowsByScope.size, storedWindows: this.stored.size };
  }
}
