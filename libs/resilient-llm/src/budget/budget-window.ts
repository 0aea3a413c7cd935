export const BUDGET_WINDOW_KINDS = ['daily', 'monthly'] as const;
export type BudgetWindowKind = (typeof BUDGET_WINDOW_KINDS)[number];

export interface CalendarWindow {
  kind: BudgetWindowKind;
  /** The local calendar period: `2026-11-26` (daily) or `2026-11` (monthly). */
  period: string;
  /** Local midnight starting the period, and the next one, as epoch milliseconds. */
  startsAt: number;
  endsAt: number;
}

interface LocalDate {
  year: number;
  month: number;
  day: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Throws a RangeError for a time zone the runtime does not know. */
export function assertTimeZone(timeZone: string): void {
  formatterFor(timeZone);
}

function localParts(instant: number, timeZone: string): LocalDate & { hour: number; minute: number; second: number } {
  const parts = Object.fromEntries(formatterFor(timeZone).formatToParts(instant).map((part) => [part.type, part.value]));
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

/** Milliseconds the zone is ahead of UTC at `instant`. */
function offsetAt(instant: number, timeZone: string): number {
  const local = localParts(instant, timeZone);
  const asUtc = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/** The instant local midnight starts `date` in the zone (DST-safe: offsets are checked at the result). */
export function localMidnight({ year, month, day }: LocalDate, timeZone: string): number {
  const wallClock = Date.UTC(year, month - 1, day);
  let instant = wallClock - offsetAt(wallClock, timeZone);
  // A DST change between the guess and the answer shifts the offset once; one correction settles it.
  instant = wallClock - offsetAt(instant, timeZone);
  return instant;
}

const pad = (value: number) => String(value).padStart(2, '0');

/** The calendar window of `kind` that contains `instant`, in `timeZone`. */
export function windowAt(kind: BudgetWindowKind, instant: number, timeZone: string): CalendarWindow {
  const { year, month, day } = localParts(instant, timeZone);
  if (kind === 'daily') {
    const next = new Date(Date.UTC(year, month - 1, day + 1));
    return {
      kind,
      period: `${year}-${pad(month)}-${pad(day)}`,
      startsAt: localMidnight({ year, month, day }, timeZone),
      endsAt: localMidnight({ year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: next.getUTCDate() }, timeZone),
    };
  }
  const next = new Date(Date.UTC(year, month, 1));
  return {
    kind,
    period: `${year}-${pad(month)}`,
    startsAt: localMidnight({ year, month, day: 1 }, timeZone),
    endsAt: localMidnight({ year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: 1 }, timeZone),
  };
}
