import type { JsonBody } from './adapters/index.js';

/**
 * A JSON answer handed back to the SDK, already parsed: the transport read it for its usage, and
 * the SDK's `json()` gets that object instead of parsing the same text again. Its headers are
 * the upstream answer's own (read-only), not a copy. Any other reading (`text()`, the body
 * stream, a second `json()`) sees the upstream's text as it came.
 */
export class ParsedAnswer extends Response {
  #parsed?: JsonBody;
  readonly #headers: Headers;

  constructor(text: string, upstream: Pick<Response, 'status' | 'statusText' | 'headers'>, parsed: JsonBody) {
    super(text, { status: upstream.status, statusText: upstream.statusText });
    this.#parsed = parsed;
    this.#headers = upstream.headers;
  }

  override get headers(): Headers {
    return this.#headers;
  }

  override json(): Promise<any> {
    const parsed = this.#parsed;
    if (parsed === undefined || this.bodyUsed) return super.json();
    this.#parsed = undefined;
    return Promise.resolve(parsed);
  }
}
