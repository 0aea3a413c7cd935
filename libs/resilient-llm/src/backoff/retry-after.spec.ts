import { parseServerRequestedDelay } from './retry-after.js';

const now = Date.UTC(2026, 10, 26, 12, 0, 0);

describe('parseServerRequestedDelay', () => {
  it('reads Retry-After as seconds', () => {
    expect(parseServerRequestedDelay(new Headers({ 'retry-after': '2' }), now)).toEqual({ delayMs: 2_000, source: 'retry-after' });
    expect(parseServerRequestedDelay({ 'Retry-After': '0.5' }, now)).toEqual({ delayMs: 500, source: 'retry-after' });
  });

  it('reads Retry-After as an HTTP date relative to the injected clock', () => {
    const inThreeSeconds = new Date(now + 3_000).toUTCString();
    expect(parseServerRequestedDelay(new Headers({ 'retry-after': inThreeSeconds }), now)).toEqual({ delayMs: 3_000, source: 'retry-after' });
    const past = new Date(now - 60_000).toUTCString();
    expect(parseServerRequestedDelay(new Headers({ 'retry-after': past }), now)).toEqual({ delayMs: 0, source: 'retry-after' });
  });

  it('prefers retry-after-ms, which is more precise', () => {
    const headers = new Headers({ 'retry-after': '9', 'retry-after-ms': '150' });
    expect(parseServerRequestedDelay(headers, now)).toEqual({ delayMs: 150, source: 'retry-after-ms' });
  });

  it('ignores missing, negative and garbage values', () => {
    expect(parseServerRequestedDelay(undefined, now)).toBeUndefined();
    expect(parseServerRequestedDelay(new Headers(), now)).toBeUndefined();
    expect(parseServerRequestedDelay(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(parseServerRequestedDelay(new Headers({ 'retry-after': '-3' }), now)).toBeUndefined();
    expect(parseServerRequestedDelay(new Headers({ 'retry-after': 'in 2' }), now)).toBeUndefined();
    expect(parseServerRequestedDelay(new Headers({ 'retry-after': 'x 1' }), now)).toBeUndefined();
    expect(parseServerRequestedDelay(new Headers({ 'retry-after-ms': 'x', 'retry-after': '1' }), now)).toEqual({ delayMs: 1_000, source: 'retry-after' });
  });
});
