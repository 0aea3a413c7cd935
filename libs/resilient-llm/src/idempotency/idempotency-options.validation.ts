import { ResilientLlmConfigurationError } from '../errors/resilient-llm-configuration.error.js';
import type { IdempotencyOptions, ResolvedIdempotencyOptions } from './idempotency-options.interface.js';

function positive(path: string, value: unknown, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new ResilientLlmConfigurationError(path, `must be a number >= ${min}, got ${String(value)}`);
  }
  return value;
}

const HEADER_NAME = /^[A-Za-z0-9-]+$/;

export function resolveIdempotencyOptions(raw: IdempotencyOptions | undefined, minimumLeaseMs: number): ResolvedIdempotencyOptions {
  const options = raw ?? {};
  if (typeof options !== 'object' || options === null) throw new ResilientLlmConfigurationError('idempotency', 'must be an object');
  const header = options.header ?? 'Idempotency-Key';
  if (typeof header !== 'string' || !HEADER_NAME.test(header)) {
    throw new ResilientLlmConfigurationError('idempotency.header', `must be an HTTP header name, got ${String(header)}`);
  }
  const leaseMs = positive('idempotency.leaseMs', options.leaseMs, Math.max(600_000, minimumLeaseMs));
  if (leaseMs < minimumLeaseMs) {
    throw new ResilientLlmConfigurationError(
      'idempotency.leaseMs',
      `must be at least backoff.deadlineMs + client.attemptTimeoutMs (${minimumLeaseMs} ms), or a live request could lose its key; got ${leaseMs}`,
    );
  }
  const storedHeaders = options.storedHeaders ?? ['location'];
  if (!Array.isArray(storedHeaders) || !storedHeaders.every((name) => typeof name === 'string' && HEADER_NAME.test(name))) {
    throw new ResilientLlmConfigurationError('idempotency.storedHeaders', 'must be an array of HTTP header names');
  }
  return {
    header: header.toLowerCase(),
    ttlMs: positive('idempotency.ttlMs', options.ttlMs, 86_400_000),
    leaseMs,
    maxBodyBytes: positive('idempotency.maxBodyBytes', options.maxBodyBytes, 1_048_576),
    storedHeaders: storedHeaders.map((name) => name.toLowerCase()),
    applyToUnsafeMethods: options.applyToUnsafeMethods ?? false,
  };
}
