import { setTimeout as delay } from 'node:timers/promises';
import type { Clock, RandomSource, Sleeper } from './clock.interface.js';

export const systemClock: Clock = { now: () => Date.now() };

export const systemSleeper: Sleeper = {
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms <= 0) return;
    await delay(ms, undefined, { signal });
  },
};

export const systemRandom: RandomSource = Math.random;
