import { checkLease, defaultLeaseMs, isHeaderName, optionalNumber, optionError } from '../errors/option-checks.js';
import type { IdempotencyOptions, ResolvedIdempotencyOptions } from './idempotency-options.interface.js';

const AT_LEAST_ONE = { min: 1 };

export function resolveIdempotencyOptions(raw: IdempotencyOptions | undefined, longestCallMs: number): ResolvedIdempotencyOptions {
  const options = raw ?? {};
  if (typeof options !== 'object' || options === null) throw optionError('idempotency', 'an object', options);
  const header = options.header ?? 'Idempotency-Key';
  if (!isHeaderName(header)) throw optionError('idempotency.header', 'an HTTP header name', header);
  const leaseMs = checkLease('idempotency.leaseMs', options.leaseMs ?? defaultLeaseMs(longestCallMs), longestCallMs, 'key');
  const storedHeaders = options.storedHeaders ?? ['location'];
  if (!Array.isArray(storedHeaders) || !storedHeaders.every(isHeaderName)) throw optionError('idempotency.storedHeaders', 'an array of HTTP header names', storedHeaders);
  return {
    header: header.toLowerCase(),
    ttlMs: optionalNumber('idempotency.ttlMs', options.ttlMs, 86_400_000, AT_LEAST_ONE),
    leaseMs,
    maxBodyBytes: optionalNumber('idempotency.maxBodyBytes', options.maxBodyBytes, 1_048_576, AT_LEAST_ONE),
    storedHeaders: storedHeaders.map((name) => name.toLowerCase()),
    applyToUnsafeMethods: options.applyToUnsafeMethods ?? false,
  };
}
