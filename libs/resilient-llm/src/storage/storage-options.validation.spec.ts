import { resolveStorageOptions } from './storage-options.validation.js';

describe('storage options', () => {
  it('bounds every wait for the store by default: 2 s, and an SQLite lock wait of as much', () => {
    expect(resolveStorageOptions(undefined)).toEqual({ kind: 'sqlite', database: './data/resilient-llm.sqlite', busyTimeoutMs: 2_000, maxWaitMs: 2_000 });
    expect(resolveStorageOptions({ database: 'postgres://db/app', maxWaitMs: 750 })).toEqual({ kind: 'postgres', url: 'postgres://db/app', maxWaitMs: 750 });
    expect(resolveStorageOptions({ database: ':memory:', maxWaitMs: 300, sqliteBusyTimeoutMs: 0 })).toMatchObject({ busyTimeoutMs: 0, maxWaitMs: 300 });
  });

  it.each([
    [{ maxWaitMs: 0 }, /"storage\.maxWaitMs": must be a number of milliseconds from 1 to 60 000, got 0/],
    [{ maxWaitMs: 60_001 }, /"storage\.maxWaitMs": .* got 60001/],
    [{ maxWaitMs: Number.NaN }, /"storage\.maxWaitMs": .* got NaN/],
    [{ maxWaitMs: '2000' as never }, /"storage\.maxWaitMs": .* got 2000/],
    [{ sqliteBusyTimeoutMs: -1 }, /"storage\.sqliteBusyTimeoutMs": must be a number of milliseconds from 0 to storage\.maxWaitMs \(2000\), got -1/],
    [{ sqliteBusyTimeoutMs: 5_000 }, /"storage\.sqliteBusyTimeoutMs": .* \(2000\), got 5000/],
  ])('refuses %j at startup, naming the option and its range', (storage, message) => {
    expect(() => resolveStorageOptions(storage)).toThrow(message);
  });
});
