import { FaultUpstream } from '@app/fault-upstream';
import { BudgetGuard, type ResilientLlmModuleOptions, StormControl } from '@resilient-llm/nestjs';
import { ManualClock } from '@resilient-llm/nestjs/testing';
import { once } from 'node:events';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { InheritedReportController, TransportEdgesController, transportEdgesModule } from './apps/transport-edges.app.js';
import { HTTP_ADAPTERS, type TestApp, createTestApp } from './support/test-app.js';

type Route = (req: IncomingMessage, res: ServerResponse) => void;

/** A provider for the endpoints the fault upstream does not serve: routes by method and path, counts requests. */
class RawUpstream {
  readonly hits: string[] = [];
  private routes = new Map<string, Route>();
  private constructor(private readonly server: Server) {}

  static async start(): Promise<RawUpstream> {
    const server = createServer();
    const upstream = new RawUpstream(server);
    server.on('request', (req, res) => {
      const key = `${req.method} ${req.url}`;
      upstream.hits.push(key);
      const route = upstream.routes.get(key);
      if (route) route(req, res);
      else res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"no route","type":"invalid_request_error","code":null}}');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return upstream;
  }

  get baseURL(): string {
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}/v1`;
  }

  on(key: string, ...answers: Route[]): void {
    let next = 0;
    this.routes.set(key, (req, res) => answers[Math.min(next++, answers.length - 1)](req, res));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Route => (_req, res) =>
  void res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));

describe.each(HTTP_ADAPTERS)('the guarded transport at its edges, on %s', (adapter) => {
  const apps: TestApp[] = [];
  afterAll(async () => {
    for (const app of apps) await app.app.close();
  });

  async function boot(baseURL: string, options: ResilientLlmModuleOptions = {}) {
    const app = await createTestApp(
      {
        imports: [
          transportEdgesModule({
            client: { apiKey: 'test', baseURL, attemptTimeoutMs: 300 },
            backoff: { strategy: 'exponential', baseMs: 100, capMs: 1_000, maxAttempts: 3, deadlineMs: 30_000 },
            budget: { limits: { dailyUsd: 1 } },
            storage: { database: ':memory:' },
            ...options,
          }),
        ],
      },
      new ManualClock(),
      adapter,
    );
    apps.push(app);
    return { ...app, guard: app.app.get(BudgetGuard), controller: app.app.get(TransportEdgesController) };
  }
  const window = async (guard: BudgetGuard) => (await guard.status()).windows[0];

  describe('endpoints without an adapter', () => {
    let raw: RawUpstream;
    let app: Awaited<ReturnType<typeof boot>>;
    beforeAll(async () => {
      raw = await RawUpstream.start();
      app = await boot(raw.baseURL);
    });
    afterAll(() => raw.stop());
    beforeEach(() => {
      raw.hits.length = 0;
      app.app.get(StormControl).reset();
    });

    it('a POST to a path with no adapter is retried and counted at the call estimate', async () => {
      raw.on('POST /v1/moderations', json(503, { error: { message: 'busy', type: 'server_error', code: null } }), json(200, { id: 'modr-1', results: [] }));
      const before = await window(app.guard);
      const response = await app.http().post('/moderation').expect(200);
      expect(response.body).toEqual({ status: 200, body: { id: 'modr-1', results: [] } });
      expect(raw.hits).toEqual(['POST /v1/moderations', 'POST /v1/moderations']);
      const after = await window(app.guard);
      // @Guarded(100) at $1/MTok: the estimate, 100 micro-dollars.
      expect(after.spentMicroUsd - before.spentMicroUsd).toBe(100);
      expect(after.reservedMicroUsd).toBe(0);
    });

    it('a 204 answer is a success, sent once', async () => {
      raw.on('DELETE /v1/files/file-1', (_req, res) => void res.writeHead(204).end());
      const response = await app.http().post('/delete-file').expect(200);
      expect(response.body).toEqual({ status: 204 });
      expect(raw.hits).toEqual(['DELETE /v1/files/file-1']);
    });

    it('a binary answer reaches the SDK byte for byte', async () => {
      const bytes = [255, 0, 128, 254, 65];
      raw.on('GET /v1/files/file-1/content', (_req, res) => void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.from(bytes)));
      const response = await app.http().post('/file-content').expect(200);
      expect(response.body).toEqual({ bytes });
    });

    it('a stream that stalls after its headers is closed after the attempt timeout, and the call settles', async () => {
      raw.on('POST /v1/chat/completions', (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 0, model: 'flat', choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null }] })}\n\n`);
        // ...and nothing more, ever.
      });
      const response = await app.http().post('/stalled-stream');
      expect(response.status).toBeGreaterThanOrEqual(500);
      expect(response.status).not.toBe(500);
      await vi.waitFor(async () => expect((await window(app.guard)).reservedMicroUsd).toBe(0));
    });
  });

  describe('with the fault upstream', () => {
    let upstream: FaultUpstream;
    let app: Awaited<ReturnType<typeof boot>>;
    beforeAll(async () => {
      upstream = await FaultUpstream.start();
      app = await boot(upstream.baseURL);
    });
    afterAll(() => upstream.stop());
    beforeEach(() => {
      upstream.resetStats();
      upstream.setFaults({});
      app.app.get(StormControl).reset();
    });

    it('an error chunk inside a 200 chat stream: one request, a clear error, no retry', async () => {
      upstream.setFaults({ sequence: ['stream_error:code=insufficient_quota', 'ok'] });
      const response = await app.http().post('/chat-stream').expect(502);
      expect(response.body).toMatchObject({ code: 'upstream_rejected', cause: { kind: 'insufficient_quota' } });
      expect(upstream.stats().totalRequests).toBe(1);
    });

    it('a client that hangs up stops the call: the request in flight is abandoned, nothing is retried, the money is settled', async () => {
      // Every answer takes 300 ms (real time); the client hangs up once its first attempt is in flight.
      upstream.setFaults({ latencyMs: [300, 300], sequence: ['503', '503', 'ok'] });
      const pending = app.http().post('/chat-stream');
      const settled = pending.then(
        () => 'answered',
        () => 'aborted',
      );
      await vi.waitFor(() => expect(upstream.stats().inFlight).toBe(1), { timeout: 5_000 });
      pending.abort();
      await settled;
      await vi.waitFor(async () => expect((await window(app.guard)).reservedMicroUsd).toBe(0), { timeout: 5_000 });
      // The first attempt was cut off in flight; no second attempt followed it.
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(upstream.stats().totalRequests).toBe(1);
    });

    it('a request a handler fires after it answered is a call of its own: reserved, sent, settled', async () => {
      const before = await window(app.guard);
      await app.http().post('/fire-and-forget').expect(202);
      await vi.waitFor(() => expect(upstream.stats().byOutcome['200']).toBe(1));
      await vi.waitFor(async () => expect((await window(app.guard)).reservedMicroUsd).toBe(0));
      const billed = upstream.stats().servedTokens;
      // The handler's own call sent nothing through the transport, so it held and spent nothing; the late request spent what it was billed.
      expect((await window(app.guard)).spentMicroUsd - before.spentMicroUsd).toBe(billed.input + billed.output);
    });

    it("with retry: 'handler', each run's request carries the same upstream key", async () => {
      upstream.setFaults({ sequence: ['503', 'ok'] });
      await app.http().post('/handler-retry').expect(200);
      expect(Object.values(upstream.stats().idempotencyKeys)).toEqual([2]);
    });
  });

  it('a class-level @Guarded admits an inherited handler before its body runs', async () => {
    const upstream = await FaultUpstream.start();
    try {
      // 500 micro-dollars cannot hold @Guarded(1000) at $1/MTok.
      const app = await boot(upstream.baseURL, { budget: { limits: { dailyUsd: 0.0005 } } });
      await app.http().post('/inherited').expect(429);
      expect(app.app.get(InheritedReportController).bodyRuns).toBe(0);
    } finally {
      await upstream.stop();
    }
  });
});
