import { RecentDemand, sliceAfterRefusal, sliceSize } from './slice-sizing.js';

describe('slice sizing', () => {
  const base = { needMicro: 100, waitingMicro: 0, recentMicro: 0, maxSliceMicro: 1_000_000 };

  it('takes the waiting requests and a second of recent demand, in whole needs', () => {
    expect(sliceSize(base)).toBe(100);
    expect(sliceSize({ ...base, waitingMicro: 950 })).toBe(1_000);
    expect(sliceSize({ ...base, recentMicro: 12_345 })).toBe(12_300);
  });

  it('is capped by maxSliceMicro and by a quarter of what is left, never below the need', () => {
    expect(sliceSize({ ...base, recentMicro: 5_000_000 })).toBe(1_000_000);
    expect(sliceSize({ ...base, recentMicro: 5_000_000, leftMicro: 10_000 })).toBe(2_500);
    expect(sliceSize({ ...base, recentMicro: 5_000_000, leftMicro: 150 })).toBe(100);
    expect(sliceAfterRefusal(100, 1_000, 1_000_000)).toBe(200);
  });

  it('counts what was drawn over about the last second', () => {
    const demand = new RecentDemand();
    demand.record(10_000, 400);
    demand.record(10_900, 600);
    expect(demand.overHorizon(10_999)).toBe(1_000);
    // Half of the previous second still lies within the last second.
    expect(demand.overHorizon(11_500)).toBe(500);
    expect(demand.overHorizon(13_000)).toBe(0);
  });
});
