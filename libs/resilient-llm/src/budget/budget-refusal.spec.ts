import type { BudgetWindowRow } from './budget-store.interface.js';
import { exhaustionOf } from './budget-refusal.js';

const window = (id: string, scope: string, kind: 'daily' | 'monthly', endsAt: number, limitMicro = 100): BudgetWindowRow => ({ id, scope, kind, period: 'p', startsAt: 0, endsAt, limitMicro });
const DAY = 86_400_000;
const windows = [window('g-d', 'global', 'daily', DAY), window('g-m', 'global', 'monthly', 30 * DAY), window('t-d', 'key:acme', 'daily', DAY, 50)];
const refused = (windowId: string, limitMicro = 100) => ({ windowId, spentMicro: 40, reservedMicro: 50, limitMicro });

describe('the window a 429 names', () => {
  it("is the refusing window, with the figures the check saw and that window's reset", () => {
    const error = exhaustionOf({ refused: [refused('t-d', 50)] }, windows, 20, 0);
    expect(error.getResponse()).toMatchObject({ scope: 'acme', window: 'daily', limitUsd: 0.00005, spentUsd: 0.00004, reservedUsd: 0.00005, requestedUsd: 0.00002 });
    expect(error.retryAfterSeconds).toBe(DAY / 1000);
  });

  it('is the one that resets last when several refused: no retry succeeds before it does', () => {
    expect(exhaustionOf({ refused: [refused('g-d'), refused('g-m')] }, windows, 20, 0).getResponse()).toMatchObject({ scope: 'global', window: 'monthly' });
  });

  it("is the caller's own scope on a tie", () => {
    expect(exhaustionOf({ refused: [refused('g-d'), refused('t-d', 50)] }, windows, 20, 0).getResponse()).toMatchObject({ scope: 'acme', window: 'daily' });
  });
});
