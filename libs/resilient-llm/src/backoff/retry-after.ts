export type ServerDelaySource = 'retry-after' | 'retry-after-ms';

export interface ServerRequestedDelay {
  delayMs: number;
  source: ServerDelaySource;
}

const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

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
  // Only an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"): Date.parse alone reads '-3' or 'in 2' as years.
  if (!IMF_FIXDATE.test(retryAfter)) return undefined;
  const date = Date.parse(retryAfter);
  if (Number.isNaN(date)) return undefined;
  return { delayMs: Math.max(0, date - nowMs), source: 'retry-after' };
}
