import { refusalIn } from './ledger-sql.js';

describe('refusalIn', () => {
  it("reads the windows a ledger trigger reported, from SQLite's message or PostgreSQL's", () => {
    const sqlite = new Error('resilient_llm:budget_exhausted:[{"id":"key:a|daily|p","spent":10,"reserved":40,"limit":60}]');
    const postgres = Object.assign(new Error('resilient_llm:budget_exhausted:[{"id": "global|daily|p", "limit": 100, "spent": 0, "reserved": 95}]'), { code: 'P0001' });
    expect(refusalIn(sqlite)).toEqual({ refused: [{ windowId: 'key:a|daily|p', spentMicro: 10, reservedMicro: 40, limitMicro: 60 }] });
    expect(refusalIn(postgres)).toEqual({ refused: [{ windowId: 'global|daily|p', spentMicro: 0, reservedMicro: 95, limitMicro: 100 }] });
  });

  it('says "refused, no window named" for a ledger the last migration has not reached, and nothing for other errors', () => {
    expect(refusalIn(new Error('resilient_llm:budget_exhausted'))).toBe(false);
    expect(refusalIn(new Error('resilient_llm:budget_exhausted:global|daily|p'))).toBe(false);
    expect(refusalIn(new Error('resilient_llm:unknown_window'))).toBeUndefined();
    expect(refusalIn(new Error('SQLITE_BUSY'))).toBeUndefined();
  });
});
