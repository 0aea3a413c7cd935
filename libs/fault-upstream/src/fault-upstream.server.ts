import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { FaultPlan } from './fault-plan.js';
import { type Fault, type FaultScript, FaultScriptError, parseFaultScript } from './fault-script.js';
import {
  type ChatRequestBody,
  errorAnswerFor,
  faultHeaders,
  promptTokensOf,
  replyWords,
  validateChatRequest,
} from './openai-responses.js';
import { type UpstreamStats, emptyStats } from './upstream-stats.js';

export interface FaultUpstreamOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** A fault script (object or JSON text); none means every request succeeds. */
  faults?: unknown;
  /** Clock for outage windows, in epoch milliseconds. */
  now?: () => number;
  /** Called for every completion request once it is answered (or abandoned): for timelines in benchmarks. */
  onRequest?: (request: { at: number; outcome: string; model?: string }) => void;
}

const MAX_BODY_BYTES = 1024 * 1024;

/**
 * An OpenAI-compatible chat-completions server on loopback that fails on purpose, by script,
 * and counts everything it receives. Control endpoints: `GET /_upstream/stats`,
 * `DELETE /_upstream/stats`, `GET|PUT /_upstream/faults`.
 */
export class FaultUpstream {
  private plan: FaultPlan;
  private counters = emptyStats();
  private requestNumber = 0;
  /** Where it listens, e.g. `http://127.0.0.1:4010`; still readable after `stop()`. */
  readonly url: string;

  private constructor(
    private readonly server: Server,
    private readonly now: () => number,
    script: FaultScript,
    private readonly onRequest?: FaultUpstreamOptions['onRequest'],
  ) {
    this.plan = new FaultPlan(script, now);
    const { address, port } = server.address() as AddressInfo;
    this.url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  }

  static async start(options: FaultUpstreamOptions = {}): Promise<FaultUpstream> {
    const now = options.now ?? Date.now;
    const script = parseFaultScript(options.faults);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
    const upstream = new FaultUpstream(server, now, script, options.onRequest);
    server.on('request', (req, res) => void upstream.route(req, res));
    return upstream;
  }

  /** What to give the `openai` SDK as `baseURL`. */
  get baseURL(): string {
    return `${this.url}/v1`;
  }

  get faults(): FaultScript {
    return this.plan.script;
  }

  /** Installs a new script (validated first; a bad one changes nothing) and restarts its sequence and outage clock. */
  setFaults(input: unknown): FaultScript {
    this.plan = new FaultPlan(parseFaultScript(input), this.now);
    return this.plan.script;
  }

  stats(): UpstreamStats {
    return structuredClone(this.counters);
  }

  resetStats(): void {
    this.counters = { ...emptyStats(), inFlight: this.counters.inFlight };
  }

  async stop(): Promise<void> {
    // Hanging "timeout" requests would keep close() waiting forever.
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (path === '/v1/chat/completions' && req.method === 'POST') return await this.chatCompletion(req, res);
      if (path === '/_upstream/stats' && req.method === 'GET') return sendJson(res, 200, this.stats());
      if (path === '/_upstream/stats' && req.method === 'DELETE') {
        this.resetStats();
        return sendJson(res, 200, this.stats());
      }
      if (path === '/_upstream/faults' && req.method === 'GET') return sendJson(res, 200, this.faults);
      if (path === '/_upstream/faults' && req.method === 'PUT') return sendJson(res, 200, this.setFaults(await readBody(req)));
      sendJson(res, 404, openAiError(`No route ${req.method} ${path}`, 'invalid_request_error', 'not_found'));
    } catch (error) {
      if (error instanceof FaultScriptError) return sendJson(res, 400, openAiError(error.message, 'invalid_request_error', 'invalid_fault_script'));
      if (error instanceof RequestBodyError) return sendJson(res, error.status, openAiError(error.message, 'invalid_request_error', null));
      if (!res.headersSent) sendJson(res, 500, openAiError(`upstream bug: ${(error as Error).message}`, 'server_error', null));
      else res.destroy();
    }
  }

  private async chatCompletion(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const stats = this.counters;
    stats.totalRequests++;
    stats.inFlight++;
    stats.maxConcurrent = Math.max(stats.maxConcurrent, stats.inFlight);
    const key = req.headers['idempotency-key'];
    if (typeof key === 'string') stats.idempotencyKeys[key] = (stats.idempotencyKeys[key] ?? 0) + 1;
    let outcome = 'reset';
    let parsed: ChatRequestBody | undefined;
    try {
      // Read first: a body that is refused (413) must not use up a fault of the script.
      const text = await readBody(req);
      parsed = this.countModel(text);
      const fault = this.plan.nextFault();
      if (parsed && (fault.kind === 'timeout' || fault.kind === 'reset')) this.counters.abandonedPromptTokens += promptTokensOf(parsed);
      const latency = this.plan.latencyMs();
      if (latency > 0) await delay(latency);
      outcome = await this.answer(req, res, fault, text);
    } catch (error) {
      if (error instanceof RequestBodyError) outcome = String(error.status);
      throw error;
    } finally {
      // The stats may have been reset meanwhile: count into the current ones.
      this.counters.inFlight--;
      this.counters.byOutcome[outcome] = (this.counters.byOutcome[outcome] ?? 0) + 1;
      this.onRequest?.({ at: this.now(), outcome, model: parsed?.model });
    }
  }

  private countModel(text: string): ChatRequestBody | undefined {
    try {
      const body = JSON.parse(text) as ChatRequestBody;
      if (typeof body.model === 'string') this.counters.byModel[body.model] = (this.counters.byModel[body.model] ?? 0) + 1;
      return validateChatRequest(body) ? undefined : body;
    } catch {
      // Not JSON: answered with a 400 later, and counted under no model.
      return undefined;
    }
  }

  /** Sends (or withholds) the answer the fault calls for; returns the outcome to count. */
  private async answer(req: IncomingMessage, res: ServerResponse, fault: Fault, text: string): Promise<string> {
    if (fault.kind === 'reset') {
      req.socket.destroy();
      return 'reset';
    }
    if (fault.kind === 'timeout') {
      // Hang until the client gives up (or the server stops); it may have given up already.
      if (!res.closed && !req.socket.destroyed) await new Promise<void>((resolve) => res.once('close', resolve));
      return 'timeout';
    }
    const headers = faultHeaders(fault, this.now());
    const failure = errorAnswerFor(fault);
    if (failure) {
      sendJson(res, failure.status, openAiError(failure.message, failure.type, failure.code), headers);
      return String(failure.status);
    }

    let body: ChatRequestBody;
    try {
      body = JSON.parse(text);
    } catch {
      sendJson(res, 400, openAiError('We could not parse the JSON body of your request.', 'invalid_request_error', null));
      return '400';
    }
    const invalid = validateChatRequest(body);
    if (invalid) {
      sendJson(res, 400, openAiError(invalid, 'invalid_request_error', null));
      return '400';
    }
    const number = ++this.requestNumber;
    const words = replyWords(body, this.plan.script.completionTokens, number);
    const usage = { prompt_tokens: promptTokensOf(body), completion_tokens: words.length, total_tokens: 0 };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    const id = `chatcmpl-fault-${number}`;
    const created = Math.floor(this.now() / 1000);
    if (body.stream) {
      this.counters.streamedRequests++;
      const completed = await this.stream(res, { id, created, model: body.model, words, usage: body.stream_options?.include_usage ? usage : undefined });
      if (!completed) return 'aborted';
    } else {
      sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: words.join(' '), refusal: null }, logprobs: null, finish_reason: 'stop' }],
        usage,
        system_fingerprint: 'fp_fault_upstream',
      });
    }
    this.counters.servedTokens.input += usage.prompt_tokens;
    this.counters.servedTokens.output += usage.completion_tokens;
    return '200';
  }

  private async stream(
    res: ServerResponse,
    reply: { id: string; created: number; model: string; words: string[]; usage?: object },
  ): Promise<boolean> {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const chunk = (delta: object, finishReason: string | null, usage: object | null = null) => ({
      id: reply.id,
      object: 'chat.completion.chunk',
      created: reply.created,
      model: reply.model,
      choices: delta ? [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] : [],
      usage,
    });
    const events: object[] = [chunk({ role: 'assistant', content: '' }, null)];
    reply.words.forEach((word, index) => events.push(chunk({ content: index === 0 ? word : ` ${word}` }, null)));
    events.push(chunk({}, 'stop'));
    if (reply.usage) events.push({ ...chunk({}, null, reply.usage), choices: [] });
    for (const event of events) {
      if (res.destroyed) return false;
      res.write(`data: ${JSON.stringify(event)}\n\n`);
      if (this.plan.script.streamChunkDelayMs > 0) await delay(this.plan.script.streamChunkDelayMs);
    }
    res.end('data: [DONE]\n\n');
    return true;
  }
}

class RequestBodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new RequestBodyError(413, `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function openAiError(message: string, type: string, code: string | null) {
  return { error: { message, type, param: null, code } };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers });
  res.end(payload);
}
