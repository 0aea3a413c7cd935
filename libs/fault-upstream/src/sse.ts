import type { ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { SseEvent } from './endpoint.js';

/**
 * Sends a 200 `text/event-stream`, an event at a time with `delayMs` between them (a slow stream).
 * Returns how many events it wrote, and whether it got to the end before the client went away.
 */
export async function writeSse(
  res: ServerResponse,
  events: SseEvent[],
  options: { delayMs: number; endsWithDone: boolean; headers?: Record<string, string> },
): Promise<{ completed: boolean; written: number }> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', ...options.headers });
  let written = 0;
  for (const { event, data } of events) {
    if (res.destroyed) return { completed: false, written };
    res.write(`${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`);
    written++;
    if (options.delayMs > 0) await delay(options.delayMs);
  }
  if (options.endsWithDone) res.end('data: [DONE]\n\n');
  else res.end();
  return { completed: true, written };
}
