import { ResilientLlmConfigurationError } from '../errors/resilient-llm-configuration.error.js';
import type { ResolvedStorageOptions, StorageOptions } from './storage-options.interface.js';

export const DEFAULT_DATABASE = './data/resilient-llm.sqlite';

export function resolveStorageOptions(raw: StorageOptions | undefined): ResolvedStorageOptions {
  const options = raw ?? {};
  if (options.dataSource !== undefined) {
    if (options.database !== undefined) {
      throw new ResilientLlmConfigurationError('storage', 'takes either "database" or "dataSource", not both');
    }
    if (typeof options.dataSource?.query !== 'function') {
      throw new ResilientLlmConfigurationError('storage.dataSource', 'must be a TypeORM DataSource');
    }
    return { kind: 'external', dataSource: options.dataSource };
  }
  const database = options.database ?? DEFAULT_DATABASE;
  if (typeof database !== 'string' || database.trim() === '') {
    throw new ResilientLlmConfigurationError('storage.database', 'must be ":memory:", an SQLite file path or a postgres:// URL');
  }
  if (/^postgres(ql)?:\/\//.test(database)) return { kind: 'postgres', url: database };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(database)) {
    throw new ResilientLlmConfigurationError('storage.database', `unsupported database URL "${redactUrl(database)}"; use postgres:// or an SQLite path`);
  }
  const busyTimeoutMs = options.sqliteBusyTimeoutMs ?? 5_000;
  if (typeof busyTimeoutMs !== 'number' || !Number.isFinite(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new ResilientLlmConfigurationError('storage.sqliteBusyTimeoutMs', `must be a number of milliseconds >= 0, got ${String(busyTimeoutMs)}`);
  }
  return { kind: 'sqlite', database, busyTimeoutMs };
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
