import { isStoreWaitExceededError } from './store-wait-exceeded.error.js';
import { type StoreWaitSignal, withinStoreWait } from './store-wait.js';

describe('withinStoreWait', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("answers with the operation's result, or its error, when it comes in time", async () => {
    await expect(withinStoreWait(100, async () => 'done')).resolves.toBe('done');
    await expect(withinStoreWait(100, async () => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
  });

  it('gives up at the bound, and aborts the signal so that the operation sends nothing more', async () => {
    let signal!: StoreWaitSignal;
    const outcome = withinStoreWait(100, (given) => {
      signal = given;
      return new Promise<never>(() => undefined);
    });
    const settled = outcome.catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(99);
    expect(signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const error = await settled;
    expect(isStoreWaitExceededError(error)).toBe(true);
    expect(signal.aborted).toBe(true);
    expect(() => signal.throwIfAborted()).toThrow('did not answer within 100 ms');
  });

  it('swallows a late failure of an operation it gave up on', async () => {
    let fail!: (error: Error) => void;
    const outcome = withinStoreWait(10, () => new Promise<never>((_, reject) => (fail = reject))).catch(() => 'gave up');
    await vi.advanceTimersByTimeAsync(10);
    expect(await outcome).toBe('gave up');
    fail(new Error('late'));
    await vi.advanceTimersByTimeAsync(0);
  });
});
