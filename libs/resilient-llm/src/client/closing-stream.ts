/** The part of the `openai` SDK's `Stream` that can end its request. */
interface AbortableStream<T> extends AsyncIterable<T> {
  controller: AbortController;
}

/**
 * The SDK's stream, with `return()` that ends the request even before the first read: an
 * async generator that never started runs no `finally`, so the SDK would not abort, and the
 * stream's slot and spend would wait for the idle timeout.
 */
export function closingStream<T>(stream: AbortableStream<T>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const iterator = stream[Symbol.asyncIterator]();
      return {
        next: () => iterator.next(),
        async return(value?: unknown) {
          stream.controller.abort();
          await iterator.return?.();
          return { done: true as const, value: value as T };
        },
      };
    },
  };
}
