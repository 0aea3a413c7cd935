import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { RESILIENT_LLM_CLOCK, RESILIENT_LLM_RANDOM, RESILIENT_LLM_SLEEPER } from '@resilient-llm/nestjs/testing';
import { ManualClock } from '@resilient-llm/nestjs/testing';
import request from 'supertest';
import type { App } from 'supertest/types.js';

/** The HTTP platforms every HTTP scenario runs on, as @nestjs/throttler's tests do. */
export const HTTP_ADAPTERS = ['express', 'fastify'] as const;
export type HttpAdapterName = (typeof HTTP_ADAPTERS)[number];

export interface TestApp {
  app: INestApplication<App>;
  adapter: HttpAdapterName;
  clock: ManualClock;
  http: () => ReturnType<typeof request>;
}

/**
 * Boots a real Nest app (real HTTP through supertest) with the library's clock and sleeper
 * replaced by a ManualClock: backoff sleeps return at once and are recorded in `clock.sleeps`.
 * Random is fixed at 0.5, so jittered delays are repeatable.
 */
export async function createTestApp(metadata: ModuleMetadata, clock = new ManualClock(), adapter: HttpAdapterName = 'express'): Promise<TestApp> {
  const moduleRef = await Test.createTestingModule(metadata)
    .overrideProvider(RESILIENT_LLM_CLOCK)
    .useValue(clock)
    .overrideProvider(RESILIENT_LLM_SLEEPER)
    .useValue(clock)
    .overrideProvider(RESILIENT_LLM_RANDOM)
    .useValue(() => 0.5)
    .compile();
  const app =
    adapter === 'fastify'
      ? moduleRef.createNestApplication<INestApplication<App>>(new FastifyAdapter(), { logger: false })
      : moduleRef.createNestApplication<INestApplication<App>>({ logger: false });
  await app.init();
  if (adapter === 'fastify') await (app.getHttpAdapter().getInstance() as { ready(): Promise<unknown> }).ready();
  return { app, adapter, clock, http: () => request(app.getHttpServer()) };
}

/**
 * The example app reads its settings from the environment when its module is imported. Its
 * store defaults to `:memory:` here: a file would carry keys and spend from one run to the next.
 */
export async function importExampleAppModule(env: Record<string, string>) {
  for (const [name, value] of Object.entries({ RESILIENT_LLM_DB: ':memory:', ...env })) process.env[name] = value;
  vi.resetModules();
  const { AppModule } = await import('../../src/app.module.js');
  return AppModule;
}
