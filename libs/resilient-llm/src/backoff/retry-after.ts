export type ServerDelaySource = 'retry-after' | 'retry-after-ms';

export interface ServerRequestedDelay {
  delayMs: number;
  source: ServerDelaySource;
}

type HeaderBag = Headers | Record<string, string | string[] | undefined> | undefined | null;

export function readHeader(headers: HeaderBag, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const bag = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(bag).find((candidate) => candidate.toLowerCase() === name);
  const value = key === undefined ? undefined : bag[key];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The wait a server asked for: `retry-after-ms` first (OpenAI's, more precise), then
 * `Retry-After` as delta-seconds or an HTTP date. Unparseable or negative values are ignored,
 * so a broken header falls back to the computed delay instead of failing the call.
 */
export function parseServerRequestedDelay(headers: HeaderBag, nowMs: number): ServerRequestedDelay | undefined {
  const milliseconds = readHeader(headers, 'retry-after-ms');
  if (milliseconds !== undefined) {
    const delayMs = Number(milliseconds.trim());
    if (milliseconds.trim() !== '' && Number.isFinite(delayMs) && delayMs >= 0) {
      return { delayMs, source: 'retry-after-ms' };
    }
  }
  const retryAfter = readHeader(headers, 'retry-after')?.trim();
  if (!retryAfter) return undefined;
  if (/^\d+(\.\d+)?$/.test(retryAfter)) return { delayMs: Number(retryAfter) * 1000, source: 'retry-after' };
  // An HTTP date always has a weekday or month name; without this, Date.parse('-3') is a year.
  if (!/[a-z]/i.test(retryAfter)) return undefined;
  const date = Date.parse(retryAfter);
  if (Number.isNaN(date)) return undefined;
  return { delayMs: Math.max(0, date - nowMs), source: 'retry-after' };
}
