import fc from 'fast-check';
import { BudgetExhaustedException } from './budget-exhausted.exception.js';

const window = (endsAt: number) => ({ scope: 'global', kind: 'daily' as const, limitMicro: 100, spentMicro: 90, reservedMicro: 0, endsAt });

describe('BudgetExhaustedException', () => {
  it('tells the client to come back when the window ends, rounded up to the second', () => {
    const now = Date.UTC(2026, 8, 5, 20);
    const error = new BudgetExhaustedException(window(Date.UTC(2026, 8, 6, 4)), 20, now + 400);
    expect(error.retryAfterSeconds).toBe(8 * 3_600);
    expect(error.getResponse()).toMatchObject({ resetsAt: '2026-09-06T04:00:00.000Z' });
  });

  it('never sends a Retry-After or a reset time in the past', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4e12 }), fc.integer({ min: -1e9, max: 1e9 }), (now, offset) => {
        const error = new BudgetExhaustedException(window(now + offset), 20, now);
        expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(1);
        expect(Date.parse((error.getResponse() as { resetsAt: string }).resetsAt)).toBeGreaterThan(now);
      }),
    );
  });
});
