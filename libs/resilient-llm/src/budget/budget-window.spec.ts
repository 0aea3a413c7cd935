import fc from 'fast-check';
import { assertTimeZone, windowAt } from './budget-window.js';

describe('calendar windows', () => {
  it('cuts UTC days and months at midnight UTC', () => {
    const instant = Date.UTC(2026, 10, 26, 23, 59, 59);
    expect(windowAt('daily', instant, 'UTC')).toEqual({
      kind: 'daily',
      period: '2026-11-26',
      startsAt: Date.UTC(2026, 10, 26),
      endsAt: Date.UTC(2026, 10, 27),
    });
    expect(windowAt('monthly', instant, 'UTC')).toEqual({
      kind: 'monthly',
      period: '2026-11',
      startsAt: Date.UTC(2026, 10, 1),
      endsAt: Date.UTC(2026, 11, 1),
    });
    expect(windowAt('monthly', Date.UTC(2026, 11, 31, 12), 'UTC').endsAt).toBe(Date.UTC(2027, 0, 1));
  });

  it('cuts days at local midnight in the configured zone', () => {
    // 2026-11-26 23:30 in New York (UTC-5) is 04:30 UTC on the 27th.
    const instant = Date.UTC(2026, 10, 27, 4, 30);
    expect(windowAt('daily', instant, 'America/New_York')).toMatchObject({
      period: '2026-11-26',
      startsAt: Date.UTC(2026, 10, 26, 5),
      endsAt: Date.UTC(2026, 10, 27, 5),
    });
    expect(windowAt('daily', instant, 'Asia/Tokyo')).toMatchObject({ period: '2026-11-27', startsAt: Date.UTC(2026, 10, 26, 15) });
  });

  it('has 23- and 25-hour days across DST changes', () => {
    const springForward = windowAt('daily', Date.UTC(2026, 2, 8, 12), 'America/New_York');
    expect(springForward.endsAt - springForward.startsAt).toBe(23 * 3_600_000);
    const fallBack = windowAt('daily', Date.UTC(2026, 10, 1, 12), 'America/New_York');
    expect(fallBack.endsAt - fallBack.startsAt).toBe(25 * 3_600_000);
  });

  it('always contains the instant, and the next window starts where this one ends', () => {
    const zones = ['UTC', 'Europe/Berlin', 'America/Los_Angeles', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Chatham'];
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2060, 0, 1) }), fc.constantFrom(...zones), fc.constantFrom('daily' as const, 'monthly' as const), (instant, zone, kind) => {
        const window = windowAt(kind, instant, zone);
        expect(window.startsAt).toBeLessThanOrEqual(instant);
        expect(window.endsAt).toBeGreaterThan(instant);
        expect(windowAt(kind, window.endsAt, zone).startsAt).toBe(window.endsAt);
        expect(windowAt(kind, window.startsAt, zone).period).toBe(window.period);
      }),
    );
  });

  it('rejects an unknown time zone', () => {
    expect(() => assertTimeZone('Mars/Olympus_Mons')).toThrow(RangeError);
  });
});
