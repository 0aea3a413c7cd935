import fc from 'fast-check';
import { assertTimeZone, windowAt } from './budget-window.js';

// Santiago and Havana skip midnight when DST starts (the day starts at 01:00), Havana repeats it when
// DST ends, Cairo skips it and repeats the hour before it; half-hour and 45-minute offsets and DST steps.
const ZONES = [
  'UTC',
  'America/Santiago',
  'America/Havana',
  'Africa/Cairo',
  'America/New_York',
  'America/St_Johns',
  'Europe/London',
  'Europe/Berlin',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
];

const HOUR = 3_600_000;

/**
 * Independently of budget-window.ts: where each local date of 2026 starts in a zone, found by
 * scanning the year hour by hour with Intl and narrowing every change of date to the millisecond.
 */
function dayStartsByScanning(timeZone: string): Map<string, number> {
  const format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  const dateAt = (instant: number) => format.format(instant);
  const starts = new Map<string, number>();
  let previous = Date.UTC(2025, 11, 30);
  let previousDate = dateAt(previous);
  for (let instant = previous + HOUR; instant <= Date.UTC(2027, 0, 3); instant += HOUR) {
    const date = dateAt(instant);
    if (date !== previousDate) {
      let low = previous;
      let high = instant;
      while (high - low > 1) {
        const middle = Math.floor((low + high) / 2);
        if (dateAt(middle) === previousDate) low = middle;
        else high = middle;
      }
      starts.set(date, high);
    }
    previous = instant;
    previousDate = date;
  }
  return starts;
}

const scanned = new Map(ZONES.map((zone) => [zone, dayStartsByScanning(zone)]));
const DAYS_2026 = Array.from({ length: 365 }, (_, index) => new Date(Date.UTC(2026, 0, 1 + index)).toISOString().slice(0, 10));
const nextDay = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);


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

  it.each(ZONES)('starts and ends every day and month of 2026 where the local date changes in %s', (zone) => {
    const starts = scanned.get(zone)!;
    for (const date of DAYS_2026) {
      const startsAt = starts.get(date)!;
      const endsAt = starts.get(nextDay(date))!;
      const expected = { kind: 'daily', period: date, startsAt, endsAt };
      expect(windowAt('daily', startsAt, zone)).toEqual(expected);
      expect(windowAt('daily', endsAt - 1, zone)).toEqual(expected);
      if (date.endsWith('-01')) {
        const month = date.slice(0, 7);
        const nextMonth = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5)), 1)).toISOString().slice(0, 10);
        expect(windowAt('monthly', startsAt, zone)).toEqual({ kind: 'monthly', period: month, startsAt, endsAt: starts.get(nextMonth)! });
      }
    }
  });

  it('puts any instant of 2026 in the window of its local date (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2026, 0, 1, 14), max: Date.UTC(2026, 11, 31, 10) }), fc.constantFrom(...ZONES), (instant, zone) => {
        const date = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(instant);
        const starts = scanned.get(zone)!;
        expect(windowAt('daily', instant, zone)).toEqual({ kind: 'daily', period: date, startsAt: starts.get(date)!, endsAt: starts.get(nextDay(date))! });
      }),
      { numRuns: 2_000 },
    );
  });

  it('starts the day at 01:00 where midnight is skipped, and at the first midnight where it repeats', () => {
    // Santiago, 2026-09-06: 00:00 (UTC-4) becomes 01:00 (UTC-3); Havana, 2026-03-08: 00:00 (UTC-5) becomes 01:00 (UTC-4).
    expect(windowAt('daily', Date.UTC(2026, 8, 6, 12), 'America/Santiago')).toMatchObject({ startsAt: Date.UTC(2026, 8, 6, 4), endsAt: Date.UTC(2026, 8, 7, 3) });
    expect(windowAt('daily', Date.UTC(2026, 2, 8, 12), 'America/Havana')).toMatchObject({ startsAt: Date.UTC(2026, 2, 8, 5), endsAt: Date.UTC(2026, 2, 9, 4) });
    // The last hour of the day before belongs to the day before.
    expect(windowAt('daily', Date.UTC(2026, 8, 6, 3, 30), 'America/Santiago')).toMatchObject({ period: '2026-09-05', endsAt: Date.UTC(2026, 8, 6, 4) });
    // Havana, 2026-11-01: 01:00 (UTC-4) goes back to 00:00 (UTC-5): the day starts at the first midnight and lasts 25 hours.
    expect(windowAt('daily', Date.UTC(2026, 10, 1, 12), 'America/Havana')).toMatchObject({ startsAt: Date.UTC(2026, 10, 1, 4), endsAt: Date.UTC(2026, 10, 2, 5) });
  });

  it('rejects an unknown time zone', () => {
    expect(() => assertTimeZone('Mars/Olympus_Mons')).toThrow(RangeError);
  });
});
