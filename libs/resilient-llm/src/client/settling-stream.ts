import type OpenAI from 'openai';

type Chunk = OpenAI.Chat.ChatCompletionChunk;

export interface StreamSummary {
  reported?: { inputTokens: number; outputTokens: number };
  contentChunks: number;
  last?: Chunk;
}

/**
 * Wraps a stream so that `onDone` runs exactly once: when it ends, fails, is closed early
 * (`return()`, even before the first read), or is left unread for `idleMs`. A generator's
 * `finally` would not run for a stream nobody started reading, and its slot and spend would
 * be held for good.
 */
export function settlingStream(
  stream: AsyncIterable<Chunk>,
  tokensOf: (usage: Chunk['usage']) => StreamSummary['reported'],
  onDone: (summary: StreamSummary) => void,
  idleMs: number,
): AsyncIterable<Chunk> {
  const summary: StreamSummary = { contentChunks: 0 };
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    clearTimeout(unread);
    onDone(summary);
  };
  const unread = setTimeout(finish, idleMs);
  unread.unref();
  const source = stream[Symbol.asyncIterator]();
  const iterator: AsyncIterator<Chunk> = {
    async next() {
      clearTimeout(unread);
      try {
        const result = await source.next();
        if (result.done) finish();
        else {
          summary.reported = tokensOf(result.value.usage) ?? summary.reported;
          if (result.value.choices[0]?.delta?.content) summary.contentChunks++;
          summary.last = result.value;
        }
        return result;
      } catch (error) {
        finish();
        throw error;
      }
    },
    async return(value?: unknown) {
      finish();
      await source.return?.();
      return { done: true, value: value as Chunk };
    },
    async throw(error?: unknown) {
      finish();
      await source.return?.();
      throw error;
    },
  };
  return { [Symbol.asyncIterator]: () => iterator };
}
