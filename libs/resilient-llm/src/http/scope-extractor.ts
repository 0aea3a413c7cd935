import { BadRequestException, type ExecutionContext } from '@nestjs/common';
import { isHeaderName, optionError } from '../errors/option-checks.js';
import { ResilientLlmConfigurationError } from '../errors/resilient-llm-configuration.error.js';
import { headerOccurrences } from './header-occurrences.js';

export type ScopeExtractor = (context: ExecutionContext) => string | undefined;

/** The caller's scope key: a request header to read, or a function of the execution context. */
export interface ScopeOptions {
  header?: string;
  extract?: ScopeExtractor;
}

/** The scope slice of the resolved module options (token `RESILIENT_LLM_SCOPE_SETTINGS`). */
export interface ScopeSettings {
  readonly extractScope?: ScopeExtractor;
}

// Printable ASCII, no spaces: a key that could smuggle control characters into logs is refused.
const SCOPE_KEY = /^[\x21-\x7e]{1,200}$/;

export const isValidScopeKey = (key: string): boolean => SCOPE_KEY.test(key);
export const INVALID_SCOPE_MESSAGE = 'The scope key must be 1 to 200 printable ASCII characters without spaces.';

/** 400 `invalid_scope`: the request names its scope in a way that cannot be read as one key. */
export const invalidScopeException = (message: string = INVALID_SCOPE_MESSAGE): BadRequestException =>
  new BadRequestException({ statusCode: 400, code: 'invalid_scope', message });

// Both interceptors ask for a request's scope: the extractor runs once per request.
const resolved = new WeakMap<object, string | undefined>();

/** The caller's scope key from the configured extractor, checked; undefined when there is none. */
export function resolveScopeKey(options: ScopeSettings, context: ExecutionContext): string | undefined {
  const request = context.getType() === 'http' ? context.switchToHttp().getRequest<object>() : undefined;
  if (request && resolved.has(request)) return resolved.get(request);
  const key = checkedScopeKey(options.extractScope?.(context));
  if (request) resolved.set(request, key);
  return key;
}

function checkedScopeKey(key: unknown): string | undefined {
  if (key === undefined || key === '') return undefined;
  if (typeof key !== 'string' || !isValidScopeKey(key)) {
    throw invalidScopeException();
  }
  return key;
}

export function resolveScopeExtractor(scope: ScopeOptions | undefined): ScopeExtractor | undefined {
  if (scope === undefined) return undefined;
  if (typeof scope !== 'object' || scope === null) throw optionError('scope', '{ header } or { extract }', scope);
  const { header, extract } = scope;
  if (header !== undefined && extract !== undefined) throw new ResilientLlmConfigurationError('scope', 'takes "header" or "extract", not both');
  if (extract !== undefined) {
    if (typeof extract !== 'function') throw optionError('scope.extract', 'a function (context) => string | undefined', typeof extract);
    return extract;
  }
  if (!isHeaderName(header)) throw optionError('scope.header', 'an HTTP header name such as "x-tenant-id"', header);
  const name = header.toLowerCase();
  return (context) => {
    if (context.getType() !== 'http') return undefined;
    const request = context.switchToHttp().getRequest<{ headers?: Record<string, string | string[] | undefined> }>();
    // Two scope headers name two callers: picking one (Node joins them, or keeps the first) would guess.
    const occurrences = headerOccurrences(request, name);
    if (occurrences > 1) throw invalidScopeException(`The ${name} header appears ${occurrences} times; a request names one scope.`);
    const value = request.headers?.[name];
    return Array.isArray(value) ? value[0] : value;
  };
}
