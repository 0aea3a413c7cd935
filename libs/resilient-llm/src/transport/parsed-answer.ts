import type { JsonBody } from './adapters/index.js';

const unusable = () => Promise.reject(new TypeError('Body is unusable: Body has already been read'));

/**
 * A JSON answer handed back to the SDK, already parsed: the transport read it for its usage, and
 * the SDK's `json()` gets that object instead of parsing the same text again. Its headers are
 * the upstream answer's own (read-only), not a copy. Read once like any Response: `text()`, the
 * other readers and a clone see the upstream's text as it came.
 */
export class ParsedAnswer extends Response {
  #parsed?: JsonBody;
  #consumed = false;
  readonly #text: string;
  readonly #headers: Headers;

  constructor(text: string, upstream: Pick<Response, 'status' | 'statusText' | 'headers'>, parsed?: JsonBody) {
    // Only the content type is copied (what blob() and a clone's body need), not every header.
    super(text, { status: upstream.status, statusText: upstream.statusText, headers: { 'content-type': upstream.headers.get('content-type') ?? 'application/json' } });
    this.#text = text;
    this.#parsed = parsed;
    this.#headers = upstream.headers;
  }

  override get headers(): Headers {
    return this.#headers;
  }

  override get bodyUsed(): boolean {
    return this.#consumed || super.bodyUsed;
  }

  override json(): Promise<any> {
    if (this.#consumed) return unusable();
    const parsed = this.#parsed;
    if (parsed === undefined) return super.json();
    this.#consumed = true;
    this.#parsed = undefined;
    return Promise.resolve(parsed);
  }

  override text(): Promise<string> {
    return this.#consumed ? unusable() : super.text();
  }

  override arrayBuffer(): Promise<ArrayBuffer> {
    return this.#consumed ? unusable() : super.arrayBuffer();
  }

  override blob(): Promise<Blob> {
    return this.#consumed ? unusable() : super.blob();
  }

  override clone(): Response {
    if (this.bodyUsed) throw new TypeError('Response.clone: Body has already been consumed.');
    return new ParsedAnswer(this.#text, this, undefined);
  }
}
