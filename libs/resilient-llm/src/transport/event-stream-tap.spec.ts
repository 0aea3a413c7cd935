import type { StreamOutcome } from './event-stream-reading.js';
import { tapEventStream } from './event-stream-tap.js';

/** An upstream body that sends nothing until the test says, and records its cancellation. */
function silentUpstream() {
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({ pull: () => new Promise(() => undefined), cancel: () => void (cancelled = true) }, { highWaterMark: 0 });
  return { body, cancelled: () => cancelled };
}

function tap(body: ReadableStream<Uint8Array>, signal: AbortSignal, done: StreamOutcome[]) {
  return tapEventStream(body, undefined, {
    signal,
    idleMs: 60_000,
    onDone: (outcome) => done.push(outcome),
    errorFor: () => new Error('reported'),
    idleError: () => new Error('idle'),
  });
}

describe('tapEventStream', () => {
  it("fails a read in progress with the abort's reason, cancels the upstream and finishes once", async () => {
    const upstream = silentUpstream();
    const controller = new AbortController();
    const done: StreamOutcome[] = [];
    const reading = tap(upstream.body, controller.signal, done).getReader().read();
    await new Promise((resolve) => setImmediate(resolve));
    const reason = new Error('the client disconnected');
    controller.abort(reason);
    await expect(reading).rejects.toBe(reason);
    expect(upstream.cancelled()).toBe(true);
    expect(done).toHaveLength(1);
  });

  it('fails the first read of a stream whose signal was aborted before it was handed over', async () => {
    const upstream = silentUpstream();
    const reason = new Error('shutting down');
    const done: StreamOutcome[] = [];
    await expect(tap(upstream.body, AbortSignal.abort(reason), done).getReader().read()).rejects.toBe(reason);
    expect(done).toHaveLength(1);
  });
});
