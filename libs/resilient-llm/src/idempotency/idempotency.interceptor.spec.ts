import { AsyncResource } from 'node:async_hooks';
import { type CallHandler, Controller, HttpException, InternalServerErrorException, Post } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/internal';
import { Test } from '@nestjs/testing';
import { trace, INVALID_SPAN_CONTEXT } from '@opentelemetry/api';
import { type Observable, Subject, defer, firstValueFrom, from, lastValueFrom } from 'rxjs';
import { resolveModuleOptions } from '../module/resilient-llm-options.validation.js';
import { settingsProviders } from '../module/settings.providers.js';
import { RESILIENT_LLM_CLOCK, RESILIENT_LLM_OPTIONS } from '../resilient-llm.constants.js';
import { InMemoryIdempotencyStore, ManualClock } from '../testing/index.js';
import { type IdempotencyEvents, type IdempotencyOutcome, RESILIENT_LLM_IDEMPOTENCY_EVENTS } from './idempotency-events.js';
import { RESILIENT_LLM_IDEMPOTENCY_STORE } from './idempotency-store.interface.js';
import { IdempotencyInterceptor } from './idempotency.interceptor.js';
import { Idempotent } from './idempotent.decorator.js';

@Controller('orders')
class OrdersController {
  runs = 0;

  @Post()
  @Idempotent()
  create(body: { item: string }): { id: number; item: string } {
    this.runs++;
    return { id: this.runs, item: body.item };
  }

  @Post('broken')
  @Idempotent()
  broken(): never {
    this.runs++;
    throw new InternalServerErrorException('the upstream fell over');
  }
}

interface FakeRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

interface FakeResponse {
  statusCode: number;
  headers: Record<string, string>;
}

/** Express's and Fastify's adapters both reach headers through these two calls; this one keeps them in a record. */
const recordingAdapter = {
  setHeader: (response: FakeResponse, name: string, value: string) => void (response.headers[name.toLowerCase()] = value),
  getHeader: (response: FakeResponse, name: string) => response.headers[name.toLowerCase()],
};

class RecordingEvents implements IdempotencyEvents {
  readonly outcomes: IdempotencyOutcome[] = [];
  started = 0;
  ended = 0;
  startIdempotency() {
    this.started++;
    return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
  }
  within<T>(_span: unknown, fn: () => T): T {
    return fn();
  }
  idempotencyOutcome(_span: unknown, outcome: IdempotencyOutcome): void {
    this.outcomes.push(outcome);
  }
  endSpan(): void {
    this.ended++;
  }
}

describe('IdempotencyInterceptor', () => {
  let interceptor: IdempotencyInterceptor;
  let controller: OrdersController;
  let store: InMemoryIdempotencyStore;
  let events: RecordingEvents;

  beforeEach(async () => {
    store = new InMemoryIdempotencyStore();
    events = new RecordingEvents();
    const moduleRef = await Test.createTestingModule({
      controllers: [OrdersController],
      providers: [
        IdempotencyInterceptor,
        { provide: RESILIENT_LLM_OPTIONS, useValue: resolveModuleOptions({ scope: { header: 'x-tenant-id' } }) },
        ...settingsProviders,
        { provide: RESILIENT_LLM_IDEMPOTENCY_STORE, useValue: store },
        { provide: RESILIENT_LLM_IDEMPOTENCY_EVENTS, useValue: events },
        { provide: RESILIENT_LLM_CLOCK, useValue: new ManualClock() },
      ],
    }).compile();
    // No HTTP server: the adapter host is Nest's own, handed an adapter that only keeps headers.
    moduleRef.get(HttpAdapterHost).httpAdapter = recordingAdapter as unknown as HttpAdapterHost['httpAdapter'];
    interceptor = moduleRef.get(IdempotencyInterceptor);
    controller = moduleRef.get(OrdersController);
  });

  const request = (headers: Record<string, string>, body: unknown = { item: 'book' }): FakeRequest => ({
    method: 'POST',
    url: '/orders',
    headers: { 'x-tenant-id': 'acme', ...headers },
    body,
  });

  /** Nest's CallHandler: the handler runs on subscription, in the async context `handle()` was called in. */
  const handlerFor = (run: () => unknown): CallHandler => ({
    handle: () => defer(AsyncResource.bind(() => from(Promise.resolve().then(run)))),
  });

  function send(req: FakeRequest, method: 'create' | 'broken' = 'create', next?: CallHandler) {
    const response: FakeResponse = { statusCode: 201, headers: {} };
    const context = new ExecutionContextHost([req, response], OrdersController, controller[method]);
    const handler = next ?? handlerFor(() => (method === 'create' ? controller.create(req.body as { item: string }) : controller.broken()));
    const answer: Observable<unknown> = interceptor.intercept(context, handler);
    return { answer, response };
  }

  const statusOf = async (answer: Observable<unknown>): Promise<number> => {
    const error = await lastValueFrom(answer).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    if (!(error instanceof HttpException)) throw new Error(`expected an HttpException, got ${String(error)}`);
    return error.getStatus();
  };

  it('runs the first request once, stores it, and replays it to a repeat with Idempotent-Replayed', async () => {
    const first = send(request({ 'idempotency-key': 'order-1' }));
    expect(await lastValueFrom(first.answer)).toEqual({ id: 1, item: 'book' });
    expect(first.response.headers['idempotent-replayed']).toBeUndefined();

    const repeat = send(request({ 'idempotency-key': 'order-1' }));
    expect(await lastValueFrom(repeat.answer)).toEqual({ id: 1, item: 'book' });
    expect(repeat.response.headers['idempotent-replayed']).toBe('true');
    expect(controller.runs).toBe(1);
    expect(events.outcomes).toEqual(['miss', 'hit']);
    expect(events.ended).toBe(events.started);
  });

  it('refuses the same key with another payload (422) without running the handler', async () => {
    await lastValueFrom(send(request({ 'idempotency-key': 'order-2' }, { item: 'book' })).answer);
    expect(await statusOf(send(request({ 'idempotency-key': 'order-2' }, { item: 'lamp' })).answer)).toBe(422);
    expect(controller.runs).toBe(1);
    expect(events.outcomes).toEqual(['miss', 'mismatch']);
  });

  it('refuses a repeat while the first request still runs (409), then replays once it is done', async () => {
    const pending = new Subject<unknown>();
    const first = send(request({ 'idempotency-key': 'order-3' }), 'create', { handle: () => pending });
    const firstAnswer = firstValueFrom(first.answer);
    // The first request holds the key once its claim has landed.
    await vi.waitFor(() => expect(events.outcomes).toEqual(['miss']));

    expect(await statusOf(send(request({ 'idempotency-key': 'order-3' })).answer)).toBe(409);

    pending.next({ id: 7, item: 'book' });
    pending.complete();
    expect(await firstAnswer).toEqual({ id: 7, item: 'book' });
    const replay = send(request({ 'idempotency-key': 'order-3' }));
    expect(await lastValueFrom(replay.answer)).toEqual({ id: 7, item: 'book' });
    expect(replay.response.headers['idempotent-replayed']).toBe('true');
    expect(controller.runs).toBe(0);
  });

  it.each([
    ['an empty key', ''],
    ['a key with a control character', 'order\u0001'],
    ['a key over 255 characters', 'k'.repeat(256)],
  ])('refuses %s with 400 before the store or the handler', async (_name, key) => {
    expect(await statusOf(send(request({ 'idempotency-key': key })).answer)).toBe(400);
    expect(controller.runs).toBe(0);
    expect(events.started).toBe(0);
  });

  it('does not store a 5xx: a repeat runs the handler again', async () => {
    const first = send(request({ 'idempotency-key': 'order-4' }), 'broken');
    expect(await statusOf(first.answer)).toBe(500);
    const repeat = send(request({ 'idempotency-key': 'order-4' }), 'broken');
    expect(await statusOf(repeat.answer)).toBe(500);
    expect(repeat.response.headers['idempotent-replayed']).toBeUndefined();
    expect(controller.runs).toBe(2);
    expect(events.outcomes).toEqual(['miss', 'miss']);
  });

  it('scopes keys per caller: another tenant with the same key and body runs on its own', async () => {
    const acme = send(request({ 'idempotency-key': 'order-5' }));
    expect(await lastValueFrom(acme.answer)).toEqual({ id: 1, item: 'book' });
    const globex = send(request({ 'idempotency-key': 'order-5', 'x-tenant-id': 'globex' }));
    expect(await lastValueFrom(globex.answer)).toEqual({ id: 2, item: 'book' });
    expect(globex.response.headers['idempotent-replayed']).toBeUndefined();
    expect(events.outcomes).toEqual(['miss', 'miss']);
  });
});
