import { type CpuProfile, summariseProfile } from './profile-summary.js';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });

// root > handler (library) > fetch (undici); root > (garbage collector)
const PROFILE: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 4] },
    { id: 2, callFrame: frame('handle', 'file:///repo/libs/resilient-llm/src/guarded/x.ts', 9), children: [3] },
    { id: 3, callFrame: frame('fetch', 'node:internal/deps/undici/undici', 0) },
    { id: 4, callFrame: frame('(garbage collector)') },
  ],
  samples: [2, 3, 3, 3, 4, 4, 2, 3, 1, 1],
  timeDeltas: Array(10).fill(200),
};

describe('summariseProfile', () => {
  it('shares of samples in a function itself and with it on the stack, paths relative to the root', () => {
    const summary = summariseProfile(PROFILE, '/repo/', 10);
    const line = (name: string) => summary.bySelf.find((candidate) => candidate.frame.startsWith(name));
    expect(line('fetch')).toMatchObject({ selfShare: 0.4, totalShare: 0.4 });
    expect(line('handle')).toMatchObject({ frame: 'handle libs/resilient-llm/src/guarded/x.ts:10', selfShare: 0.2, totalShare: 0.6 });
    expect(summary.bySelf[0].frame).toMatch(/^fetch/);
    expect(summary.byTotal[0].frame).toMatch(/^handle/);
  });

  it('counts the samples with the library on the stack, and those of the garbage collector', () => {
    const summary = summariseProfile(PROFILE, '/repo/');
    expect(summary.library).toBe(0.6);
    expect(summary.gc).toBe(0.2);
  });
});
