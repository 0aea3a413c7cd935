import type { ReservationRow } from './budget-status.interface.js';
import { coveredMicro, liveRows, raisedMarks } from './in-flight-marks.js';

const marks = (rows: ReservationRow[], exposure: number) => [...raisedMarks(rows, exposure)].map(([row, mark]) => [row.id, mark]);

describe('money in flight on a call\'s rows', () => {
  it('fills the rows in order and lists only marks that go up', () => {
    const rows: ReservationRow[] = [{ id: 'a', amountMicro: 100, inFlightMicro: 40 }, { id: 'b', amountMicro: 50 }];
    expect(marks(rows, 30)).toEqual([]);
    expect(marks(rows, 90)).toEqual([['a', 90]]);
    expect(marks(rows, 130)).toEqual([['a', 100], ['b', 30]]);
    expect(marks(rows, 500)).toEqual([['a', 100], ['b', 50]]);
  });

  it('counts an expired row as what its lease charged, and marks nothing on it', () => {
    const rows: ReservationRow[] = [{ id: 'a', amountMicro: 100, inFlightMicro: 40, expired: true }, { id: 'b', amountMicro: 60 }];
    expect(coveredMicro(rows)).toBe(40 + 60);
    expect(marks(rows, 70)).toEqual([['b', 30]]);
    expect(liveRows(rows).map((row) => row.id)).toEqual(['b']);
  });

  it('gives a row the store never saw its share without marking it', () => {
    const rows: ReservationRow[] = [{ id: 'a', amountMicro: 10, recorded: false }, { id: 'b', amountMicro: 60 }];
    expect(marks(rows, 25)).toEqual([['b', 15]]);
    expect(liveRows(rows).map((row) => row.id)).toEqual(['b']);
  });
});
