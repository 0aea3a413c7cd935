import type { ServerResponse } from 'node:http';
import type { Endpoint, Reply } from './endpoint.js';
import type { Fault } from './fault-script.js';
import { sendJson } from './http-io.js';
import { openAiError, streamErrorFor } from './openai-responses.js';
import { writeSse } from './sse.js';
import type { UpstreamStats } from './upstream-stats.js';

export interface ReplyOptions {
  /** Delay between streamed events, in milliseconds. */
  delayMs: number;
  /** The fault's own headers (`retry-after`, `x-should-retry`) for an answer that fails. */
  headers: Record<string, string>;
  /** The stats to count into, read when counting: they may have been reset meanwhile. */
  stats: () => UpstreamStats;
}

/**
 * Answers a valid request the fault lets through (`ok`, or `stream_error`), plain or streamed, and
 * counts what a provider would bill for it. Returns the outcome to count.
 */
export async function writeReply(res: ServerResponse, endpoint: Endpoint<{ model: string }>, reply: Reply<{ model: string }>, fault: Fault, options: ReplyOptions): Promise<string> {
  const { delayMs, headers, stats } = options;
  const stream = endpoint.stream?.requested(reply.body) ? endpoint.stream : undefined;
  if (fault.kind === 'stream_error') {
    const error = streamErrorFor(fault);
    if (!stream) {
      // No stream to fail inside: a plain error answer, counted by its status like any other.
      sendJson(res, error.status, openAiError(error.message, error.type, error.code), headers);
      return String(error.status);
    }
    stats().streamedRequests++;
    const failing = await writeSse(res, stream.failingEvents(reply, error), { delayMs, headers, endsWithDone: false });
    // The stream had started: the provider had read, and billed, the prompt.
    stats().servedTokens.input += reply.promptTokens;
    return failing.completed ? 'stream_error' : 'aborted';
  }

  if (stream) {
    stats().streamedRequests++;
    const { completed, written } = await writeSse(res, stream.events(reply), { delayMs, endsWithDone: stream.endsWithDone });
    if (!completed) {
      // The client left: a provider bills the prompt it read and the words it generated until it noticed.
      stats().servedTokens.input += reply.promptTokens;
      stats().servedTokens.output += Math.min(reply.words.length, Math.max(0, written - stream.eventsBeforeText));
      return 'aborted';
    }
  } else {
    // An answer the client no longer waits for is generated, and billed, all the same.
    sendJson(res, 200, endpoint.answer(reply));
  }
  stats().servedTokens.input += reply.promptTokens;
  stats().servedTokens.output += reply.words.length;
  return '200';
}
