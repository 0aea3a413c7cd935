import type { EndpointAdapter, StreamEvent, StreamEventReading } from './adapters/index.js';

/** What a streamed answer said about itself by the time it ended. */
export interface StreamOutcome extends Omit<StreamEventReading, 'outputDelta'> {
  /** Pieces of output read: about one token each. */
  outputDeltas: number;
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
 * Reads the server-sent events in a body, chunk by chunk, into its {@link StreamOutcome}. Without an
 * adapter nothing is decoded: the body is passed through and says nothing about itself.
 */
export class EventStreamReading {
  readonly outcome: StreamOutcome = { outputDeltas: 0 };
  private readonly decoder = new TextDecoder();
  /** The text after the last blank line: an event split across chunks waits here for its end. */
  private pending = '';

  constructor(private readonly adapter: Pick<EndpointAdapter, 'readEvent'> | undefined) {}

  chunk(value: Uint8Array): void {
    if (this.adapter) this.readText(this.adapter, this.decoder.decode(value, { stream: true }));
  }

  /** The last event of a body need not end with a blank line, so the end of the body ends it. */
  end(): void {
    if (this.adapter) this.readText(this.adapter, this.decoder.decode() + '\n\n');
  }

  private readText(adapter: Pick<EndpointAdapter, 'readEvent'>, text: string): void {
    this.pending += text;
    const blocks = this.pending.split(/\r?\n\r?\n/);
    this.pending = blocks.pop() ?? '';
    for (const block of blocks) {
      const event = parseEvent(block);
      if (event) this.record(adapter.readEvent(event));
    }
  }

  private record({ outputDelta, ...reading }: StreamEventReading): void {
    if (outputDelta) this.outcome.outputDeltas++;
    for (const [key, value] of Object.entries(reading)) if (value !== undefined) Object.assign(this.outcome, { [key]: value });
  }
}
