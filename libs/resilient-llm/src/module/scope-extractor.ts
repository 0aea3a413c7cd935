import type { ExecutionContext } from '@nestjs/common';
import { ResilientLlmConfigurationError } from '../errors/resilient-llm-configuration.error.js';
import type { ResilientLlmModuleOptions } from './resilient-llm-options.interface.js';

type Extractor = (context: ExecutionContext) => string | undefined;

export function resolveScopeExtractor(scope: ResilientLlmModuleOptions['scope']): Extractor | undefined {
  if (scope === undefined) return undefined;
  if (typeof scope !== 'object' || scope === null) throw new ResilientLlmConfigurationError('scope', 'must be { header } or { extract }');
  const { header, extract } = scope;
  if (header !== undefined && extract !== undefined) throw new ResilientLlmConfigurationError('scope', 'takes "header" or "extract", not both');
  if (extract !== undefined) {
    if (typeof extract !== 'function') throw new ResilientLlmConfigurationError('scope.extract', 'must be a function (context) => string | undefined');
    return extract;
  }
  if (typeof header !== 'string' || !/^[A-Za-z0-9-]+$/.test(header)) {
    throw new ResilientLlmConfigurationError('scope.header', `must be an HTTP header name such as "x-tenant-id", got ${String(header)}`);
  }
  const name = header.toLowerCase();
  return (context) => {
    if (context.getType() !== 'http') return undefined;
    const value = context.switchToHttp().getRequest<{ headers?: Record<string, string | string[] | undefined> }>().headers?.[name];
    return Array.isArray(value) ? value[0] : value;
  };
}
