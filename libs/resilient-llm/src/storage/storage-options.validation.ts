import { ResilientLlmConfigurationError } from '../errors/resilient-llm-configuration.error.js';
import type { ResolvedStorageOptions, StorageOptions } from './storage-options.interface.js';

export const DEFAULT_DATABASE = './data/resilient-llm.sqlite';
export const DEFAULT_MAX_WAIT_MS = 2_000;
const LONGEST_MAX_WAIT_MS = 60_000;

const isMilliseconds = (value: unknown, min: number, max: number): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;

export function resolveStorageOptions(raw: StorageOptions | undefined): ResolvedStorageOptions {
  const options = raw ?? {};
  const maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  if (!isMilliseconds(maxWaitMs, 1, LONGEST_MAX_WAIT_MS)) {
    throw new ResilientLlmConfigurationError('storage.maxWaitMs', `must be a number of milliseconds from 1 to 60 000, got ${String(maxWaitMs)}`);
  }
  if (options.dataSource !== undefined) {
    if (options.database !== undefined) {
      throw new ResilientLlmConfigurationError('storage', 'takes either "database" or "dataSource", not both');
    }
    if (typeof options.dataSource?.query !== 'function') {
      throw new ResilientLlmConfigurationError('storage.dataSource', 'must be a TypeORM DataSource');
    }
    return { kind: 'external', dataSource: options.dataSource, maxWaitMs };
  }
  const database = options.database ?? DEFAULT_DATABASE;
  if (typeof database !== 'string' || database.trim() === '') {
    throw new ResilientLlmConfigurationError('storage.database', 'must be ":memory:", an SQLite file path or a postgres:// URL');
  }
  if (/^postgres(ql)?:\/\//.test(database)) return { kind: 'postgres', url: database, maxWaitMs };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(database)) {
    throw new ResilientLlmConfigurationError('storage.database', `unsupported database URL "${redactUrl(database)}"; use postgres:// or an SQLite path`);
  }
  const busyTimeoutMs = options.sqliteBusyTimeoutMs ?? maxWaitMs;
  if (!isMilliseconds(busyTimeoutMs, 0, maxWaitMs)) {
    throw new ResilientLlmConfigurationError(
      'storage.sqliteBusyTimeoutMs',
      `must be a number of milliseconds from 0 to storage.maxWaitMs (${maxWaitMs}), got ${String(busyTimeoutMs)}`,
    );
  }
  return { kind: 'sqlite', database, busyTimeoutMs, maxWaitMs };
}

/** A database URL fit for messages: the password is never shown. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}

export function describeStorage(storage: ResolvedStorageOptions): string {
  if (storage.kind === 'postgres') return redactUrl(storage.url);
  if (storage.kind === 'sqlite') return `sqlite:${storage.database}`;
  return `the app's DataSource (${storage.dataSource.options.type})`;
}
