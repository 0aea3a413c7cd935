import { DeferredStoreWrites, type StoreWrite } from './deferred-store-writes.js';

const write = (description: string, run: () => Promise<void>): StoreWrite => ({ description, run });

describe('DeferredStoreWrites', () => {
  const events = () => ({ deferred: vi.fn(), dropped: vi.fn() });

  it('keeps what the store did not take in time, the write in flight included, and runs it on flush', async () => {
    const ran: string[] = [];
    let storeUp = false;
    const gate = (name: string) => write(name, async () => {
      if (!storeUp) return new Promise<void>(() => undefined);
      ran.push(name);
    });
    const listener = events();
    const writes = new DeferredStoreWrites(listener);
    expect(await writes.runWithin([gate('a'), gate('b')], 10)).toBe(false);
    expect(writes.size).toBe(2);
    expect(listener.deferred).toHaveBeenCalledWith(2, expect.objectContaining({ name: 'StoreWaitExceededError' }));

    storeUp = true;
    await writes.flush(1_000);
    expect(ran).toEqual(['a', 'b']);
    expect(writes.size).toBe(0);
  });

  it('stops a flush at the first failure and keeps the rest', async () => {
    const ran: string[] = [];
    const writes = new DeferredStoreWrites(events());
    await writes.runWithin([write('down', () => Promise.reject(new Error('down'))), write('after', async () => void ran.push('after'))], 1_000);
    expect(ran).toEqual([]);
    expect(writes.size).toBe(2);
  });

  it('drops the oldest past its capacity, and says so', async () => {
    const listener = events();
    const writes = new DeferredStoreWrites(listener, 2);
    const failing = (name: string) => write(name, () => Promise.reject(new Error('down')));
    await writes.runWithin([failing('1'), failing('2'), failing('3')], 1_000);
    expect(writes.size).toBe(2);
    expect(listener.dropped).toHaveBeenCalledWith(expect.objectContaining({ description: '1' }));
  });
});
