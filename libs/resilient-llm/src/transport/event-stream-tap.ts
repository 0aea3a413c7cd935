import type { EndpointAdapter, StreamEvent, StreamEventReading } from './adapters/index.js';

/** What a streamed answer said about itself by the time it ended. */
export interface StreamOutcome extends Omit<StreamEventReading, 'outputDelta'> {
  /** Pieces of output read: about one token each. */
  outputDeltas: number;
  /** The stream reached its end (not cut short, not abandoned). */
  completed: boolean;
}

export interface TapOptions {
  /** Ends the stream where it stands: the reader went away (the SDK aborts its request then), or the call did. */
  signal: AbortSignal;
  /** A stream nobody reads for this long is closed, so that its slot and spend are not held for good. */
  idleMs: number;
  /** Runs exactly once: at the end, on an error, when the reader cancels, or when idle. */
  onDone(outcome: StreamOutcome): void;
  /** The error a stream that reported one inside a 200 answer fails with. */
  errorFor(reported: NonNullable<StreamEventReading['error']>): Error;
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
 * Passes a server-sent event stream through unchanged while reading its usage and any error
 * event it carries. Pull-driven: nothing is read ahead of the consumer, so "idle" means that
 * the consumer stopped reading.
 */
export function tapEventStream(body: ReadableStream<Uint8Array>, adapter: Pick<EndpointAdapter, 'readEvent'>, options: TapOptions): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const outcome: StreamOutcome = { outputDeltas: 0, completed: false };
  let pending = '';
  let finished = false;
  let idle: NodeJS.Timeout | undefined;

  const finish = () => {
    if (finished) return;
    finished = true;
    clearTimeout(idle);
    options.signal.removeEventListener('abort', stop);
    options.onDone(outcome);
  };
  const read = (text: string) => {
    pending += text;
    const blocks = pending.split(/\r?\n\r?\n/);
    pending = blocks.pop() ?? '';
    for (const block of blocks) {
      const event = parseEvent(block);
      if (!event) continue;
      const { outputDelta, ...reading } = adapter.readEvent(event);
      if (outputDelta) outcome.outputDeltas++;
      Object.assign(outcome, Object.fromEntries(Object.entries(reading).filter(([, value]) => value !== undefined)));
    }
  };
  const watch = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      controller.error(new Error(`the stream was not read for ${options.idleMs} ms and was closed`));
      reader.cancel().catch(() => undefined);
      finish();
    }, options.idleMs);
    idle.unref();
  };

  const stop = () => {
    reader.cancel().catch(() => undefined);
    finish();
  };
  if (options.signal.aborted) stop();
  else options.signal.addEventListener('abort', stop, { once: true });

  return new ReadableStream<Uint8Array>(
    {
      start: watch,
      async pull(controller) {
        clearTimeout(idle);
        try {
          const { done, value } = await reader.read();
          if (done) {
            read(decoder.decode() + '\n\n');
            outcome.completed = !outcome.error;
            if (outcome.error) controller.error(options.errorFor(outcome.error));
            else controller.close();
            finish();
            return;
          }
          read(decoder.decode(value, { stream: true }));
          if (outcome.error) {
            controller.error(options.errorFor(outcome.error));
            reader.cancel().catch(() => undefined);
            finish();
            return;
          }
          controller.enqueue(value);
          watch(controller);
        } catch (error) {
          controller.error(error);
          finish();
        }
      },
      async cancel(reason) {
        finish();
        await reader.cancel(reason).catch(() => undefined);
      },
    },
    { highWaterMark: 0 },
  );
}
