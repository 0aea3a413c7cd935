import { chatCompletionsAdapter } from './chat-completions.adapter.js';
import { embeddingsAdapter } from './embeddings.adapter.js';
import type { EndpointAdapter } from './endpoint-adapter.js';
import { responsesAdapter } from './responses.adapter.js';

const ADAPTERS: readonly EndpointAdapter[] = [chatCompletionsAdapter, responsesAdapter, embeddingsAdapter];

/** The adapter for a request path, if the transport knows the endpoint. */
export const adapterFor = (path: string): EndpointAdapter | undefined => ADAPTERS.find((adapter) => adapter.matches(path));

export type { EndpointAdapter, JsonBody, PromptCount, RequestLimits, StreamEvent, StreamEventReading } from './endpoint-adapter.js';
export { parseJsonObject, tokensOfText } from './endpoint-adapter.js';
