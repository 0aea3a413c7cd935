import { newRowId } from './reservation-row.js';

describe('newRowId', () => {
  afterEach(() => vi.restoreAllMocks());

  it('is a version-7 UUID whose first 48 bits are the time: ids of later rows sort after', () => {
    const now = vi.spyOn(Date, 'now').mockReturnValue(Date.UTC(2026, 10, 30, 12));
    const first = newRowId();
    now.mockReturnValue(Date.UTC(2026, 10, 30, 12) + 1);
    const second = newRowId();
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(first.replace(/-/g, '').slice(0, 12)).toBe(Date.UTC(2026, 10, 30, 12).toString(16).padStart(12, '0'));
    expect(second > first).toBe(true);
    expect(newRowId()).not.toBe(second);
  });
});
