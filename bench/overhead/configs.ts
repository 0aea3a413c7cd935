import type { ResilientLlmModuleOptions } from '@resilient-llm/nestjs';

export interface OverheadConfig {
  name: string;
  path: 'plain' | 'guarded' | 'idempotent';
  options: ResilientLlmModuleOptions;
  /** Registers an OpenTelemetry SDK that records every span. */
  tracing?: boolean;
}

export const UNGUARDED = 'unguarded (bare openai SDK)';

const BUDGET = { budget: { limits: { dailyUsd: 1_000_000 } } };

/** The configurations, the unguarded baseline first; PostgreSQL only when a server is given. */
export function overheadConfigs(stores: { sqliteFile: string; postgresUrl?: string }): OverheadConfig[] {
  return [
    { name: UNGUARDED, path: 'plain', options: {} },
    { name: '@Guarded, tracing off', path: 'guarded', options: {} },
    { name: '@Guarded + @Idempotent (new key each)', path: 'idempotent', options: {} },
    { name: '@Guarded + budget, SQLite file', path: 'guarded', options: { ...BUDGET, storage: { database: stores.sqliteFile } } },
    { name: '@Guarded + budget, SQLite memory', path: 'guarded', options: { ...BUDGET, storage: { database: ':memory:' } } },
    ...(stores.postgresUrl
      ? [
          { name: '@Guarded + budget, PostgreSQL', path: 'guarded' as const, options: { ...BUDGET, storage: { database: stores.postgresUrl } } },
          {
            name: '@Guarded + budget, PostgreSQL, escrow',
            path: 'guarded' as const,
            options: { budget: { ...BUDGET.budget, escrow: true }, storage: { database: stores.postgresUrl } },
          },
        ]
      : []),
    { name: '@Guarded, OpenTelemetry SDK (in memory)', path: 'guarded', options: {}, tracing: true },
  ];
}
