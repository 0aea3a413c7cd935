import { billedTokens } from './billed-tokens.js';
import type { Endpoint } from './endpoint.js';
import { seededRandom } from './seeded-random.js';

export interface EmbeddingsRequestBody {
  model: string;
  /** Text, texts, or (leniently, as OpenAI takes them) token arrays. */
  input: string | string[] | number[] | number[][];
  encoding_format?: 'float' | 'base64';
}

const DIMENSIONS = 8;

const isTokens = (value: unknown): value is number[] =>
  Array.isArray(value) && value.length > 0 && value.every((token) => Number.isSafeInteger(token) && token >= 0);

/** The inputs one by one: a text, or a token array. */
function inputsOf(input: EmbeddingsRequestBody['input']): Array<string | number[]> {
  if (typeof input === 'string' || isTokens(input)) return [input];
  return input as Array<string | number[]>;
}

export function validateEmbeddingsRequest(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return 'the request body must be a JSON object';
  const { model, input, encoding_format: format } = body as Record<string, unknown>;
  if (typeof model !== 'string' || model === '') return "'model' is required";
  const one = (value: unknown) => (typeof value === 'string' && value !== '') || isTokens(value);
  if (!(one(input) || (Array.isArray(input) && input.length > 0 && input.every(one)))) {
    return "'input' must be a non-empty string, an array of them, or token arrays";
  }
  if (format !== undefined && format !== 'float' && format !== 'base64') return "'encoding_format' must be 'float' or 'base64'";
  return undefined;
}

/** ~4 characters a token, as chat counts; a token array is its length. No per-message framing here. */
const tokensOf = (input: string | number[]) => (typeof input === 'string' ? billedTokens(input) : input.length);

/**
 * A unit vector that depends on the input only, so that equal texts embed equally. Its numbers are
 * float32 values, so that the JSON floats and the base64 form decode to the same thing.
 */
function embeddingOf(input: string | number[]): number[] {
  const text = typeof input === 'string' ? input : input.join(',');
  let hash = 0x811c9dc5; // FNV-1a
  for (let index = 0; index < text.length; index++) hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193);
  const random = seededRandom(hash);
  const raw = Array.from({ length: DIMENSIONS }, () => random() * 2 - 1);
  const norm = Math.hypot(...raw) || 1;
  return raw.map((value) => Math.fround(value / norm));
}

/** What the `openai` SDK asks for unless told otherwise: little-endian float32s, base64. */
function base64Of(vector: number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((value, index) => bytes.writeFloatLE(value, index * 4));
  return bytes.toString('base64');
}

/** `POST /v1/embeddings`; never streamed. */
export const embeddings: Endpoint<EmbeddingsRequestBody> = {
  path: '/v1/embeddings',
  validate: validateEmbeddingsRequest,
  promptTokens: (body) => inputsOf(body.input).reduce((sum, input) => sum + tokensOf(input), 0),
  // Embeddings generate no text: a rate limit counts their input only.
  outputTokensForRateLimit: () => 0,
  replyText: () => ({ words: [], truncated: false }),
  answer: ({ body, promptTokens }) => ({
    object: 'list',
    data: inputsOf(body.input).map((input, index) => {
      const vector = embeddingOf(input);
      return { object: 'embedding', index, embedding: body.encoding_format === 'base64' ? base64Of(vector) : vector };
    }),
    model: body.model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  }),
};
