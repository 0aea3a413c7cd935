import type { PromptTokenizer } from '../../tokenizer/prompt-tokenizer.js';
import { type JsonBody, type PromptCount, asObject } from './endpoint-adapter.js';

// Parts of a message that carry text; everything else (image_url, input_audio, file...) is not counted.
const TEXT_KEYS = ['text', 'refusal'] as const;

/** A message's content: a string, or parts whose text is counted one by one. */
export function countContent(content: unknown, tokenizer: PromptTokenizer, count: PromptCount): void {
  if (typeof content === 'string') {
    count.tokens += tokenizer.count(content);
    return;
  }
  if (!Array.isArray(content)) return;
  for (const item of content) {
    const part = asObject(item);
    if (typeof item === 'string') count.tokens += tokenizer.count(item);
    else if (!part) continue;
    else {
      const key = TEXT_KEYS.find((name) => typeof part[name] === 'string');
      if (key) count.tokens += tokenizer.count(part[key] as string);
      else count.uncounted++;
    }
  }
}

/** JSON the model sees in another rendering (tool definitions, tool calls): its JSON text, which is longer. */
export function countJson(value: unknown, tokenizer: PromptTokenizer, count: PromptCount): void {
  if (value === undefined || value === null) return;
  count.tokens += tokenizer.count(typeof value === 'string' ? value : JSON.stringify(value));
}

/**
 * One chat message the way OpenAI frames it: `perMessage` + role + content (+ name and
 * `perName`); tool calls and their ids as JSON.
 */
export function countMessage(message: JsonBody, tokenizer: PromptTokenizer, count: PromptCount): void {
  count.tokens += tokenizer.perMessage;
  if (typeof message.role === 'string') count.tokens += tokenizer.count(message.role);
  if (typeof message.name === 'string') count.tokens += tokenizer.count(message.name) + tokenizer.perName;
  countContent(message.content, tokenizer, count);
  countJson(message.tool_calls, tokenizer, count);
  countJson(message.function_call, tokenizer, count);
  countJson(message.tool_call_id, tokenizer, count);
}

/** What a request declares besides its messages: tools, functions, a forced tool choice, a JSON schema. */
export function countDeclarations(body: JsonBody, tokenizer: PromptTokenizer, count: PromptCount): void {
  countJson(body.tools, tokenizer, count);
  countJson(body.functions, tokenizer, count);
  if (typeof body.tool_choice === 'object') countJson(body.tool_choice, tokenizer, count);
  const format = asObject(body.response_format) ?? asObject(asObject(body.text)?.format);
  if (format && format.type === 'json_schema') countJson(format, tokenizer, count);
}
