export interface LlmClientOptions {
  /** The provider's API key. Required before `ResilientLlmClient` makes a call; never logged or traced. */
  apiKey?: string;
  /** An OpenAI-compatible endpoint, e.g. `https://api.openai.com/v1` (the SDK's default) or a relay. */
  baseURL?: string;
  /** Time one attempt may take before it is abandoned as a timeout, in milliseconds. Default 60 000. */
  attemptTimeoutMs?: number;
  /** Extra headers sent with every request (e.g. `OpenAI-Organization`). */
  defaultHeaders?: Record<string, string>;
}

export type ResolvedLlmClientOptions = Readonly<Required<Pick<LlmClientOptions, 'attemptTimeoutMs'>> & Omit<LlmClientOptions, 'attemptTimeoutMs'>>;

/** The client's slice of the resolved module options (token `RESILIENT_LLM_CLIENT_SETTINGS`). */
export interface ClientSettings {
  readonly client: ResolvedLlmClientOptions;
  readonly defaultModel: string;
}
