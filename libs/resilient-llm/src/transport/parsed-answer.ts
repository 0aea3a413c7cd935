import type { JsonBody } from './adapters/index.js';

/**
 * A JSON answer handed back to the SDK, already parsed: the transport read it for its usage, and
 * the SDK's `json()` gets that object instead of parsing the same text again. Any other reading
 * (`text()`, the body stream, a second `json()`) sees the upstream's text as it came.
 */
export class ParsedAnswer extends Response {
  #parsed?: JsonBody;

  constructor(text: string, init: ResponseInit, parsed: JsonBody) {
    super(text, init);
    this.#parsed = parsed;
  }

  override json(): Promise<any> {
    const parsed = this.#parsed;
    if (parsed === undefined || this.bodyUsed) return super.json();
    this.#parsed = undefined;
    return Promise.resolve(parsed);
  }
}
