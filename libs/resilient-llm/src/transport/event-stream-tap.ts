import type { EndpointAdapter, StreamEvent, StreamEventReading } from './adapters/index.js';

/** What a streamed answer said about itself by the time it ended. */
export interface StreamOutcome extends Omit<StreamEventReading, 'outputDelta'> {
  /** Pieces of output read: about one token each. */
  outputDeltas: number;
}

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

function parseEvent(block: string): StreamEvent | undefined {
  let event: string | undefined;
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  const text = data.join('\n');
  if (text === '' || text === '[DONE]') return undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === 'object' && parsed !== null ? { event, data: parsed as StreamEvent['data'] } : undefined;
  } catch {
    return undefined;
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
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const outcome: StreamOutcome = { outputDeltas: 0 };
  let pending = '';
  let finished = false;
  let idle: NodeJS.Timeout | undefined;
  let stream!: ReadableStreamDefaultController<Uint8Array>;

  const finish = () => {
    if (finished) return;
    finished = true;
    clearTimeout(idle);
    options.signal.removeEventListener('abort', stop);
    options.onDone(outcome);
  };
  const stop = () => {
    reader.cancel().catch(() => undefined);
    finish();
  };
  const fail = (error: unknown) => {
    stream.error(error);
    stop();
  };
  const watch = () => {
    clearTimeout(idle);
    idle = setTimeout(() => fail(options.idleError()), options.idleMs);
    idle.unref();
  };
  const read = (text: string) => {
    pending += text;
    const blocks = pending.split(/\r?\n\r?\n/);
    pending = blocks.pop() ?? '';
    for (const block of blocks) {
      const event = parseEvent(block);
      if (!event) continue;
      const { outputDelta, ...reading } = adapter!.readEvent(event);
      if (outputDelta) outcome.outputDeltas++;
      for (const [key, value] of Object.entries(reading)) if (value !== undefined) Object.assign(outcome, { [key]: value });
    }
  };

  if (options.signal.aborted) stop();
  else options.signal.addEventListener('abort', stop, { once: true });

  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        stream = controller;
        watch();
      },
      async pull(controller) {
        // The events before an error event reached the reader with the last chunk; now it fails.
        if (outcome.error) return fail(options.errorFor(outcome.error));
        watch();
        try {
          const { done, value } = await reader.read();
          if (finished) return;
          if (done) {
            if (adapter) read(decoder.decode() + '\n\n');
            if (outcome.error) return fail(options.errorFor(outcome.error));
            controller.close();
            finish();
            return;
          }
          if (adapter) read(decoder.decode(value, { stream: true }));
          controller.enqueue(value);
          watch();
        } catch (error) {
          if (!finished) fail(error);
        }
      },
      cancel() {
        stop();
      },
    },
    { highWaterMark: 0 },
  );
}
