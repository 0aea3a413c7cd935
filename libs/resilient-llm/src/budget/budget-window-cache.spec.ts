import type { BudgetWindowRow } from './budget-store.interface.js';
import { BudgetWindowCache } from './budget-window-cache.js';
import { LruMap } from './lru-map.js';

const DAY = 86_400_000;
const dailyOf = (scope: string, day: number): BudgetWindowRow => ({
  id: `${scope}|daily|${day}`,
  scope,
  kind: 'daily',
  period: String(day),
  startsAt: day * DAY,
  endsAt: (day + 1) * DAY,
  limitMicro: 100,
});

describe('LruMap', () => {
  it('drops the least recently used entry past its capacity', () => {
    const map = new LruMap<string, number>(2);
    map.set('a', 1);
    map.set('b', 2);
    map.get('a');
    map.set('c', 3);
    expect([map.get('a'), map.get('b'), map.get('c'), map.size]).toEqual([1, undefined, 3, 2]);
  });
});

describe('BudgetWindowCache', () => {
  it('stays bounded however many scope keys requests bring', () => {
    const cache = new BudgetWindowCache(100);
    for (let tenant = 0; tenant < 1_000; tenant++) {
      const windows = cache.windowsFor(`key:t${tenant}`, 0, () => [dailyOf(`key:t${tenant}`, 0)]);
      cache.markStored(cache.notStored(windows));
    }
    expect(cache.size).toEqual({ scopes: 100, storedWindows: 200 });
  });

  it("computes a scope's windows again once one has ended, and forgets ended windows when pruned", () => {
    const cache = new BudgetWindowCache();
    const compute = vi.fn((day: number) => [dailyOf('global', day)]);
    expect(cache.windowsFor('', 10, () => compute(0))).toEqual([dailyOf('global', 0)]);
    cache.windowsFor('', DAY - 1, () => compute(0));
    expect(compute).toHaveBeenCalledTimes(1);
    cache.markStored([dailyOf('global', 0)]);
    expect(cache.notStored([dailyOf('global', 0)])).toEqual([]);

    expect(cache.windowsFor('', DAY, () => compute(1))).toEqual([dailyOf('global', 1)]);
    cache.windowsFor('key:idle', 10, () => [dailyOf('key:idle', 0)]);
    cache.prune(DAY);
    // The idle tenant's day is over, and so is the stored global window of day 0.
    expect(cache.size).toEqual({ scopes: 1, storedWindows: 0 });
    // A changed limit is a window the store does not have yet.
    expect(cache.notStored([{ ...dailyOf('global', 1), limitMicro: 5 }])).toHaveLength(1);
  });
});
