export const BUDGET_WINDOW_KINDS = ['daily', 'monthly'] as const;
export type BudgetWindowKind = (typeof BUDGET_WINDOW_KINDS)[number];

export interface CalendarWindow {
  kind: BudgetWindowKind;
  /** The local calendar period: `2026-11-26` (daily) or `2026-11` (monthly). */
  period: string;
  /** The instant the period starts in the zone (its first local midnight, or 01:00 where midnight is skipped), and the next one's, as epoch milliseconds. */
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

const DAY_MS = 86_400_000;

function isMidnightOf(instant: number, { year, month, day }: LocalDate, timeZone: string): boolean {
  const local = localParts(instant, timeZone);
  return local.year === year && local.month === month && local.day === day && local.hour === 0 && local.minute === 0 && local.second === 0;
}

const dateKey = ({ year, month, day }: LocalDate) => year * 10_000 + month * 100 + day;

/**
 * The instant `date` starts in the zone: its local midnight, the first one where midnight
 * repeats (clocks set back over it, as in Havana in November), and where midnight is skipped
 * (clocks set forward from 00:00, as in Santiago in September or Havana in March) the instant
 * of the change, when the day begins at 01:00 local.
 */
export function localMidnight(date: LocalDate, timeZone: string): number {
  const wallClock = Date.UTC(date.year, date.month - 1, date.day);
  // The offsets a day either side: a zone changes its offset at most once in between.
  const before = wallClock - offsetAt(wallClock - DAY_MS, timeZone);
  const after = wallClock - offsetAt(wallClock + DAY_MS, timeZone);
  const candidates = [before, after].filter((instant) => isMidnightOf(instant, date, timeZone));
  if (candidates.length > 0) return Math.min(...candidates);
  // No local midnight that day: the first second whose local date is `date`, found between the two.
  const wanted = dateKey(date);
  let low = Math.floor(Math.min(before, after) / 1000) - 1;
  let high = Math.ceil(Math.max(before, after) / 1000) + 1;
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (dateKey(localParts(middle * 1000, timeZone)) >= wanted) high = middle;
    else low = middle;
  }
  return high * 1000;
}

const pad = (value: number) => String(value).padStart(2, '0');

// The window of the last instant asked for, per kind and zone: most instants fall in the same one.
const lastWindows = new Map<string, CalendarWindow>();

/** The calendar window of `kind` that contains `instant`, in `timeZone`. */
export function windowAt(kind: BudgetWindowKind, instant: number, timeZone: string): CalendarWindow {
  const key = `${kind} ${timeZone}`;
  const last = lastWindows.get(key);
  if (last && instant >= last.startsAt && instant < last.endsAt) return { ...last };
  const window = computeWindow(kind, instant, timeZone);
  lastWindows.set(key, window);
  return { ...window };
}

function computeWindow(kind: BudgetWindowKind, instant: number, timeZone: string): CalendarWindow {
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
