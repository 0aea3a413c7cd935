import { optionalNumber, optionError } from '../errors/option-checks.js';
import { ResilientLlmConfigurationError } from '../errors/resilient-llm-configuration.error.js';
import type { ResolvedStorageOptions, StorageOptions } from './storage-options.interface.js';

export const DEFAULT_DATABASE = './data/resilient-llm.sqlite';
export const DEFAULT_MAX_WAIT_MS = 2_000;
const LONGEST_MAX_WAIT_MS = 60_000;


export function resolveStorageOptions(raw: StorageOptions | undefined): ResolvedStorageOptions {
  const options = raw ?? {};
  const maxWaitMs = optionalNumber('storage.maxWaitMs', options.maxWaitMs, DEFAULT_MAX_WAIT_MS, {
    unit: 'milliseconds',
    fromTo: true,
    min: 1,
    max: LONGEST_MAX_WAIT_MS,
    maxLabel: '60 000',
  });
  if (options.dataSource !== undefined) {
    if (options.database !== undefined) {
      throw new ResilientLlmConfigurationError('storage', 'takes either "database" or "dataSource", not both');
    }
    if (typeof options.dataSource?.query !== 'function') {
      throw optionError('storage.dataSource', 'a TypeORM DataSource', typeof options.dataSource);
    }
    return { kind: 'external', dataSource: options.dataSource, maxWaitMs };
  }
  const database = options.database ?? DEFAULT_DATABASE;
  if (typeof database !== 'string' || database.trim() === '') {
    throw optionError('storage.database', '":memory:", an SQLite file path or a postgres:// URL', database);
  }
  if (/^postgres(ql)?:\/\//.test(database)) return { kind: 'postgres', url: database, maxWaitMs };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(database)) {
    throw new ResilientLlmConfigurationError('storage.database', `unsupported database URL "${redactUrl(database)}"; use postgres:// or an SQLite path`);
  }
  const busyTimeoutMs = optionalNumber('storage.sqliteBusyTimeoutMs', options.sqliteBusyTimeoutMs, maxWaitMs, {
    unit: 'milliseconds',
    fromTo: true,
    min: 0,
    max: maxWaitMs,
    maxLabel: `storage.maxWaitMs (${maxWaitMs})`,
  });
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
