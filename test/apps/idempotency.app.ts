import { BadRequestException, Body, Controller, Get, HttpCode, Module, ParseIntPipe, Post, Res, StreamableFile, ServiceUnavailableException } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Guarded, Idempotent, ResilientLlmClient, ResilientLlmModule, type ResilientLlmModuleOptions } from '@resilient-llm/nestjs';
import { Readable } from 'node:stream';

function openableGate() {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/** Handlers that create things, so that a duplicate would show as a second order. */
@Controller()
export class OrdersController {
  orders = 0;
  invocations: Record<string, number> = {};
  /** Resolve to let POST /slow finish. */
  gate = openableGate();

  constructor(
    private readonly llm: ResilientLlmClient,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  private count(name: string) {
    this.invocations[name] = (this.invocations[name] ?? 0) + 1;
  }

  @Post('orders')
  @Idempotent()
  @Guarded(32)
  async create(@Body() body: { item: string }, @Res({ passthrough: true }) response: unknown) {
    this.count('orders');
    const completion = await this.llm.createChatCompletion({ messages: [{ role: 'user', content: `Describe ${body.item}` }] });
    const orderId = ++this.orders;
    // Through the adapter: an Express response and a Fastify reply set headers differently.
    this.adapterHost.httpAdapter.setHeader(response, 'Location', `/orders/${orderId}`);
    return { orderId, item: body.item, description: completion.choices[0].message.content };
  }

  @Post('required')
  @HttpCode(200)
  @Idempotent({ required: true })
  required() {
    this.count('required');
    return { ok: true };
  }

  @Post('slow')
  @HttpCode(200)
  @Idempotent()
  async slow() {
    this.count('slow');
    await this.gate.promise;
    return { finished: this.invocations.slow };
  }

  @Post('unavailable')
  @Idempotent()
  unavailable() {
    this.count('unavailable');
    throw new ServiceUnavailableException({ statusCode: 503, code: 'try_later', message: 'not now' });
  }

  @Post('rejected')
  @Idempotent()
  rejected() {
    this.count('rejected');
    throw new BadRequestException({ statusCode: 400, code: 'out_of_stock', message: `no stock (call ${this.invocations.rejected})` });
  }

  @Post('quantity')
  @HttpCode(200)
  @Idempotent()
  quantity(@Body('quantity', ParseIntPipe) quantity: number) {
    this.count('quantity');
    return { quantity };
  }

  /** No decorator: idempotent only through the module's applyToUnsafeMethods. */
  @Post('plain-reject')
  plainReject() {
    this.count('plain-reject');
    throw new BadRequestException({ statusCode: 400, code: 'nope', message: `refused (call ${this.invocations['plain-reject']})` });
  }

  @Get('export')
  @Idempotent()
  export() {
    this.count('export');
    return new StreamableFile(Readable.from([`export ${this.invocations.export}`]));
  }
}

export function idempotencyModule(options: ResilientLlmModuleOptions) {
  @Module({ imports: [ResilientLlmModule.forRoot(options)], controllers: [OrdersController] })
  class IdempotencyModule {}
  return IdempotencyModule;
}
