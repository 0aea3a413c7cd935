import type { EndpointAdapter, StreamEventReading } from './adapters/index.js';
import { EventStreamReading, type StreamOutcome } from './event-stream-reading.js';

export interface TapOptions {
  /** Ends the stream where it stands: the reader went away (the SDK aborts its request then), or the call did. */
  signal: AbortSignal;
  /** A stream that moves nothing for this long, because nobody reads it or the upstream stalled, is closed. */
  idleMs: number;
  /** Runs exactly once: at the end, on an error, when the reader cancels, or when idle. */
  onDone(outcome: StreamOutcome): void;
  /** The error a stream that reported one inside a 200 answer fails with. */
  errorFor(reported: NonNullable<StreamEventReading['error']>): Error;
  /** The error a stream that moved nothing for `idleMs` fails with. */
  idleError(): Error;
}

/** The source of a tapped stream: reads the body only when its consumer pulls, and ends exactly once. */
class TapSource implements UnderlyingDefaultSource<Uint8Array> {
  private finished = false;
  private idle: NodeJS.Timeout | undefined;
  private stream!: ReadableStreamDefaultController<Uint8Array>;

  constructor(
    private readonly reader: ReadableStreamDefaultReader<Uint8Array>,
    private readonly reading: EventStreamReading,
    private readonly options: TapOptions,
  ) {
    if (options.signal.aborted) this.stop();
    else options.signal.addEventListener('abort', this.aborted, { once: true });
  }

  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.stream = controller;
    // Aborted before the consumer got the stream: its first read fails rather than waits.
    if (this.finished) controller.error(this.options.signal.reason);
    else this.watch();
  }

  async pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    // The events before an error event reached the reader with the last chunk; now it fails.
    if (this.reading.outcome.error) return this.fail(this.options.errorFor(this.reading.outcome.error));
    this.watch();
    try {
      const { done, value } = await this.reader.read();
      if (this.finished) return;
      if (done) return this.end(controller);
      this.reading.chunk(value);
      controller.enqueue(value);
      this.watch();
    } catch (error) {
      if (!this.finished) this.fail(error);
    }
  }

  cancel(): void {
    this.stop();
  }

  private end(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.reading.end();
    if (this.reading.outcome.error) return this.fail(this.options.errorFor(this.reading.outcome.error));
    controller.close();
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.idle);
    this.options.signal.removeEventListener('abort', this.aborted);
    this.options.onDone(this.reading.outcome);
  }

  private stop(): void {
    this.reader.cancel().catch(() => undefined);
    this.finish();
  }

  /** The abort listener (an arrow: added and removed as the same function). A consumer waiting on a read gets the abort's reason, not a read that never ends. */
  private readonly aborted = (): void => {
    if (!this.finished) this.fail(this.options.signal.reason);
  };

  private fail(error: unknown): void {
    this.stream.error(error);
    this.stop();
  }

  private watch(): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.fail(this.options.idleError()), this.options.idleMs);
    this.idle.unref();
  }
}

/**
 * Passes a body through unchanged; with an adapter, reads the server-sent events in it for
 * usage and for an error event inside a 200 answer. Pull-driven (nothing is read ahead of the
 * consumer), with one idle timer: it runs while the consumer does not read and while the
 * upstream sends nothing, so neither a forgotten stream nor a stalled one holds the call.
 */
export function tapEventStream(
  body: ReadableStream<Uint8Array>,
  adapter: Pick<EndpointAdapter, 'readEvent'> | undefined,
  options: TapOptions,
): ReadableStream<Uint8Array> {
  const source = new TapSource(body.getReader(), new EventStreamReading(adapter), options);
  return new ReadableStream<Uint8Array>(source, { highWaterMark: 0 });
}
