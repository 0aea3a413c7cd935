import type { EndpointAdapter, JsonBody } from './adapters/index.js';

/** One logical upstream request, as the retry loop sees it: sent once per attempt, the same each time. */
export interface UpstreamRequest {
  /** Which request of its call this is, 1-based. */
  readonly number: number;
  /** `gen_ai.operation.name`. */
  readonly operation: string;
  readonly adapter?: EndpointAdapter;
  /** The JSON body, as it will be sent (adapted); undefined for a body that is not JSON. */
  readonly body?: JsonBody;
  /** The model the body names. */
  readonly model?: string;
  /** Whether it may be billed (a POST); a GET or DELETE costs nothing. */
  readonly costs: boolean;
  /** False for a body that is a stream: it cannot be sent twice. */
  readonly resendable: boolean;
  /** This request's attempt timeout, over `client.attemptTimeoutMs`. */
  readonly attemptTimeoutMs?: number;
  /** The SDK's own signal (its timeout, the caller's abort). */
  readonly callerSignal?: AbortSignal;
  /**
   * The most this request can cost on `model`, in micro-dollars: its prompt counted with the
   * model's tokenizer at the input rate, its output cap at the output rate. The call's estimate
   * stands in only where the request cannot be counted (a body that is not JSON, images).
   */
  worstCaseMicro(model: string, callEstimateMicro: number): number;
  /** The prompt's tokens as `model`'s tokenizer counts them (exact for OpenAI's encodings, else an upper bound). */
  promptTokens(model: string): number;
  /** What a provider's tokens-per-minute limit counts for this request: its prompt plus its output cap. */
  rateLimitTokens(model: string): number;
  /** One attempt: the request, with `model` in its body, under `signal`. */
  send(model: string, signal: AbortSignal): Promise<Response>;
}
