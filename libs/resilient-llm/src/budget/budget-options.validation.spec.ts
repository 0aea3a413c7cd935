import { resolveModuleOptions } from '../module/resilient-llm-options.validation.js';
import type { ResilientLlmModuleOptions } from '../module/resilient-llm-options.interface.js';

describe('budget options', () => {
  it('converts dollars to integer micro-dollars and applies the documented defaults', () => {
    const { budget, strictBackoff } = resolveModuleOptions({ budget: { limits: { dailyUsd: 12.5, monthlyUsd: 300 } } });
    expect(budget).toMatchObject({
      enabled: true,
      global: { daily: 12_500_000, monthly: 300_000_000 },
      timeZone: 'UTC',
      warningRatio: 0.5,
      criticalRatio: 0.8,
      leaseMs: 600_000,
      failOpen: false,
      chargeTimedOutAttempts: true,
    });
    expect(strictBackoff).toMatchObject({ maxAttempts: 2, baseMs: 1_000 });
  });

  it('is off without limits', () => {
    expect(resolveModuleOptions({}).budget.enabled).toBe(false);
    expect(resolveModuleOptions({ budget: { timeZone: 'Europe/Berlin' } }).budget.enabled).toBe(false);
  });

  it('escrow: off by default, one switch with documented defaults, or tuned', () => {
    expect(resolveModuleOptions({}).budget.escrow).toBeUndefined();
    expect(resolveModuleOptions({ budget: { escrow: false } }).budget.escrow).toBeUndefined();
    expect(resolveModuleOptions({ budget: { escrow: true } }).budget.escrow).toEqual({ maxSliceMicro: 1_000_000, settleEveryMs: 1_000 });
    expect(resolveModuleOptions({ budget: { escrow: { maxSliceUsd: 0.25, settleEveryMs: 500 } } }).budget.escrow).toEqual({ maxSliceMicro: 250_000, settleEveryMs: 500 });
  });

  it.each<[string, ResilientLlmModuleOptions, RegExp]>([
    ['escrow that is not a switch', { budget: { escrow: 'yes' as never } }, /"budget\.escrow": must be a boolean or \{ maxSliceUsd\?, settleEveryMs\? \}, got yes/],
    ['an unknown escrow option', { budget: { escrow: { horizonMs: 5 } as never } }, /"budget\.escrow\.horizonMs": is not an escrow option/],
    ['an empty slice', { budget: { escrow: { maxSliceUsd: 0 } } }, /"budget\.escrow\.maxSliceUsd": must be a dollar amount > 0, got 0/],
    ['a settlement interval too short', { budget: { escrow: { settleEveryMs: 10 } } }, /"budget\.escrow\.settleEveryMs": must be a whole number of milliseconds from 100 to 60000, got 10/],
    ['a negative limit', { budget: { limits: { dailyUsd: -1 } } }, /"budget\.limits\.dailyUsd": must be a dollar amount >= 0, got -1/],
    ['a NaN limit', { budget: { limits: { monthlyUsd: Number.NaN } } }, /"budget\.limits\.monthlyUsd": must be a dollar amount >= 0, got NaN/],
    ['an unknown window', { budget: { limits: { weeklyUsd: 5 } as never } }, /"budget\.limits\.weeklyUsd": is not a budget window/],
    ['a bad scope limit', { budget: { scopeOverrides: { acme: { dailyUsd: -2 } } } }, /"budget\.scopeOverrides\.acme\.dailyUsd"/],
    ['warning at or above critical', { budget: { thresholds: { warning: 0.8, critical: 0.8 } } }, /"budget\.thresholds\.warning": must be below critical \(0\.8\), got 0\.8/],
    ['a threshold of 1', { budget: { thresholds: { critical: 1 } } }, /"budget\.thresholds\.critical": must be a fraction between 0 and 1/],
    ['an unknown time zone', { budget: { timeZone: 'Mars/Olympus_Mons' } }, /"budget\.timeZone": unknown IANA time zone "Mars\/Olympus_Mons"/],
    ['a lease shorter than a call can last', { budget: { leaseMs: 1_000 } }, /"budget\.leaseMs": must be at least backoff\.deadlineMs \+ client\.attemptTimeoutMs \(120000 ms\)/],
    ['an unpriced fallback model', { budget: { strict: { fallbackModel: 'mystery' } } }, /"budget\.strict\.fallbackModel": "mystery" has no price/],
    ['a bad strict backoff', { budget: { strict: { backoff: { maxAttempts: 0 } } } }, /"budget\.strict\.backoff\.maxAttempts": must be >= 1/],
    ['an unknown store failure mode', { budget: { onStoreError: 'shrug' as never } }, /"budget\.onStoreError": must be "fail-closed" or "fail-open"/],
    ['an unsupported database URL', { storage: { database: 'mysql://root@localhost/db' } }, /"storage\.database": unsupported database URL/],
    ['a bad scope header', { scope: { header: 'x tenant' } }, /"scope\.header": must be an HTTP header name/],
  ])('rejects %s, naming the option', (_, options, message) => {
    expect(() => resolveModuleOptions(options)).toThrow(message);
  });

  it('never shows a database password in a message', () => {
    expect(() => resolveModuleOptions({ storage: { database: 'mysql://admin:hunter2@db/x' } })).toThrow(/mysql:\/\/admin:\*\*\*@db\/x/);
  });
});
