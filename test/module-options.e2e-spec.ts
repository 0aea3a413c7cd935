import { FaultUpstream } from '@app/fault-upstream';
import { Controller, HttpCode, Module, Post } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { BackoffPolicy, Guarded, ResilientLlmClient, ResilientLlmModule, type ResilientLlmModuleOptions, currentGuardedCall } from '@resilient-llm/nestjs';
import { RESILIENT_LLM_SLEEPER } from '@resilient-llm/nestjs/testing';
import { HTTP_ADAPTERS, createTestApp } from './support/test-app.js';

describe('ResilientLlmModule options', () => {
  it('forRoot with a bad option fails at startup, naming the option', async () => {
    const compile = (options: ResilientLlmModuleOptions) => Test.createTestingModule({ imports: [ResilientLlmModule.forRoot(options)] }).compile();
    await expect(compile({ backoff: { baseMs: 1_000, capMs: 100 } })).rejects.toThrow(/invalid option "backoff\.capMs": must be >= baseMs \(1000\), got 100/);
    await expect(compile({ backoff: { baseMs: -5 } })).rejects.toThrow(/"backoff\.baseMs": must be >= 0, got -5/);
    await expect(compile({ backoff: { strategy: 'linear' as never } })).rejects.toThrow(/"backoff\.strategy": unknown strategy "linear"/);
  });

  it('forRootAsync takes its options from @nestjs/config ConfigService', async () => {
    const settings = () => ({ llm: { maxAttempts: 4, baseMs: 50 } });
    const moduleRef = await Test.createTestingModule({
      imports: [
        ResilientLlmModule.forRootAsync({
          imports: [ConfigModule.forRoot({ ignoreEnvFile: true, load: [settings] })],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({ backoff: { maxAttempts: config.get('llm.maxAttempts'), baseMs: config.get('llm.baseMs') } }),
        }),
      ],
    }).compile();
    expect(moduleRef.get(BackoffPolicy).defaults).toMatchObject({ maxAttempts: 4, baseMs: 50 });
  });

  it('forRootAsync validates what the factory returns', async () => {
    const compile = Test.createTestingModule({
      imports: [
        ResilientLlmModule.forRootAsync({
          imports: [ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ attempts: 0 })] })],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({ backoff: { maxAttempts: config.get('attempts') } }),
        }),
      ],
    }).compile();
    await expect(compile).rejects.toThrow(/"backoff\.maxAttempts": must be >= 1, got 0/);
  });

  it.each(HTTP_ADAPTERS)('isGlobal makes @Guarded and the client usable in modules that do not import it (%s)', async (adapter) => {
    const upstream = await FaultUpstream.start({ faults: { sequence: ['503', 'ok'] } });
    let handlerRuns = 0;
    @Controller('feature')
    class FeatureController {
      constructor(private readonly llm: ResilientLlmClient) {}
      @Post()
      @HttpCode(200)
      @Guarded(100)
      async call() {
        handlerRuns++;
        await this.llm.createChatCompletion({ messages: [{ role: 'user', content: 'hi' }] });
        return { attempts: currentGuardedCall()?.attempts.length };
      }
    }
    @Module({ controllers: [FeatureController] })
    class FeatureModule {}
    const { app, http } = await createTestApp({
      imports: [ResilientLlmModule.forRoot({ isGlobal: true, client: { apiKey: 'test', baseURL: upstream.baseURL } }), FeatureModule],
    }, undefined, adapter);
    try {
      const response = await http().post('/feature').expect(200);
      expect(upstream.stats().totalRequests).toBe(2);
      // The retry happened inside the handler's guarded call (it saw both attempts), which ran the handler once.
      expect(response.body).toEqual({ attempts: 2 });
      expect(handlerRuns).toBe(1);
    } finally {
      await app.close();
      await upstream.stop();
    }
  });

  it('a client call with no API key configured fails before any request, naming client.apiKey', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [ResilientLlmModule.forRoot({})] }).compile();
    await expect(moduleRef.get(ResilientLlmClient).createChatCompletion({ messages: [] })).rejects.toThrow(/"client\.apiKey": is required/);
  });
});

describe('@Guarded arguments are checked when the app boots', () => {
  const declareHandler = (argument: unknown) => () => {
    class ReportController {
      @Guarded(argument as number)
      summarize() {}
    }
    return ReportController;
  };

  it.each([
    [Number.NaN, /@Guarded\(\) on ReportController\.summarize: estimatedTokens": must be a positive whole number of tokens, got NaN/],
    [-100, /estimatedTokens": must be a positive whole number of tokens, got -100/],
    [0, /estimatedTokens": must be a positive whole number of tokens, got 0/],
    [12.5, /got 12\.5/],
    [{ estimatedTokens: 100, model: '' }, /model": must be a non-empty string/],
    [{ estimatedTokens: 100, backoff: { maxAttempts: 0 } }, /backoff\.maxAttempts": must be >= 1/],
    [{ estimatedTokens: 100, backoff: { strategy: 'yolo' } }, /backoff\.strategy": unknown strategy "yolo"/],
    [null, /takes a token estimate or \{ estimatedTokens, model\?, backoff\?, scope\?, retry\?, maxOutputTokens\? \}/],
    [{ estimatedTokens: 100, maxOutputTokens: 0 }, /maxOutputTokens": must be a whole number of tokens from 1 to 1000000, got 0/],
  ])('rejects %j', (argument, message) => {
    expect(declareHandler(argument)).toThrow(message);
  });

  it('names the controller when applied to a class', () => {
    expect(() => {
      @Guarded(-1)
      class BillingController {}
      return BillingController;
    }).toThrow(/@Guarded\(\) on BillingController: estimatedTokens/);
  });
});

describe('ResilientLlmClient outside a guarded handler', () => {
  it('stops retrying when the caller aborts during a backoff sleep', async () => {
    const upstream = await FaultUpstream.start({ faults: { sequence: ['503', 'ok'] } });
    const controller = new AbortController();
    const sleeps: number[] = [];
    const moduleRef = await Test.createTestingModule({
      imports: [ResilientLlmModule.forRoot({ client: { apiKey: 'test', baseURL: upstream.baseURL } })],
    })
      .overrideProvider(RESILIENT_LLM_SLEEPER)
      .useValue({
        async sleep(ms: number, signal?: AbortSignal) {
          sleeps.push(ms);
          controller.abort(); // the caller gives up while the client waits to retry
          signal?.throwIfAborted();
        },
      })
      .compile();
    try {
      const call = moduleRef.get(ResilientLlmClient).createChatCompletion({ messages: [{ role: 'user', content: 'hi' }] }, { signal: controller.signal });
      await expect(call).rejects.toMatchObject({ name: 'AbortError' });
      expect(sleeps).toHaveLength(1);
      expect(upstream.stats().totalRequests).toBe(1);
    } finally {
      await upstream.stop();
    }
  });
});
