import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { chatCompletions } from './chat-completions.js';
import { embeddings } from './embeddings.js';
import type { Endpoint, Reply } from './endpoint.js';
import { FaultPlan } from './fault-plan.js';
import { type Fault, type FaultScript, FaultScriptError, parseFaultScript } from './fault-script.js';
import { RequestBodyError, readBody, sendJson, setHeaders } from './http-io.js';
import { LOGICAL_REQUEST_HEADER, LogicalRequests } from './logical-requests.js';
import { errorAnswerFor, faultHeaders, openAiError } from './openai-responses.js';
import { writeReply } from './reply-writer.js';
import { responsesApi } from './responses-api.js';
import { type UpstreamStats, emptyStats } from './upstream-stats.js';

export interface FaultUpstreamOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** A fault script (object or JSON text); none means every request succeeds. */
  faults?: unknown;
  /** Clock for outage windows and the rate limit's buckets, in epoch milliseconds. */
  now?: () => number;
  /**
   * Called for every model request once it is answered (or abandoned): for timelines in benchmarks.
   * `retry`: its `x-logical-request` id came before; `rateLimited`: the script's `rateLimit` answered its 429.
   */
  onRequest?: (request: { at: number; outcome: string; model?: string; path: string; retry: boolean; rateLimited: boolean }) => void;
}

/** The model endpoints, by path: every fault of the script applies to each alike. */
const ENDPOINTS = new Map<string, Endpoint<{ model: string }>>(
  [chatCompletions, responsesApi, embeddings].map((endpoint) => [endpoint.path, endpoint]),
);

/**
 * An OpenAI-compatible server on loopback (`POST /v1/chat/completions`, `/v1/responses`,
 * `/v1/embeddings`) that fails on purpose, by script, and counts everything it receives.
 * Control endpoints: `GET /_upstream/stats`, `DELETE /_upstream/stats`, `GET|PUT /_upstream/faults`.
 * An `x-logical-request` header names the logical request an attempt belongs to, so that retries are counted.
 */
export class FaultUpstream {
  private plan: FaultPlan;
  private counters = emptyStats();
  private requestNumber = 0;
  private readonly logicalRequests = new LogicalRequests();
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
    this.logicalRequests.clear();
  }

  async stop(): Promise<void> {
    // Hanging "timeout" requests would keep close() waiting forever.
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    try {
      const endpoint = ENDPOINTS.get(path);
      if (endpoint && req.method === 'POST') return await this.serve(endpoint, req, res);
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

  private async serve(endpoint: Endpoint<{ model: string }>, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const stats = this.counters;
    stats.totalRequests++;
    stats.byPath[endpoint.path] = (stats.byPath[endpoint.path] ?? 0) + 1;
    stats.inFlight++;
    stats.maxConcurrent = Math.max(stats.maxConcurrent, stats.inFlight);
    const key = req.headers['idempotency-key'];
    if (typeof key === 'string') stats.idempotencyKeys[key] = (stats.idempotencyKeys[key] ?? 0) + 1;
    const logicalRequest = req.headers[LOGICAL_REQUEST_HEADER];
    const retry = this.logicalRequests.isRetry(typeof logicalRequest === 'string' ? logicalRequest : undefined);
    if (retry) stats.retryRequests++;
    let outcome = 'reset';
    let parsed: { model: string } | undefined;
    let rateLimited = false;
    try {
      // Read first: a body that is refused (413) must not use up a fault of the script.
      const text = await readBody(req);
      parsed = this.countModel(endpoint, text);
      rateLimited = this.refusedByRateLimit(endpoint, parsed, res);
      if (rateLimited) {
        outcome = '429';
        return;
      }
      const fault = this.plan.nextFault();
      if (parsed && (fault.kind === 'timeout' || fault.kind === 'reset')) this.countAbandoned(endpoint.promptTokens(parsed), retry);
      const latency = this.plan.latencyMs();
      if (latency > 0) await delay(latency);
      outcome = await this.answer(endpoint, req, res, fault, text);
    } catch (error) {
      if (error instanceof RequestBodyError) outcome = String(error.status);
      throw error;
    } finally {
      // The stats may have been reset meanwhile: count into the current ones.
      this.counters.inFlight--;
      this.counters.byOutcome[outcome] = (this.counters.byOutcome[outcome] ?? 0) + 1;
      this.onRequest?.({ at: this.now(), outcome, model: parsed?.model, path: endpoint.path, retry, rateLimited });
    }
  }

  private countAbandoned(promptTokens: number, retry: boolean): void {
    this.counters.abandonedPromptTokens += promptTokens;
    if (retry) this.counters.retryAbandonedPromptTokens += promptTokens;
  }

  /**
   * Applies the script's rate limit, as a provider does on arrival: its headers go on whatever answer
   * follows; true when it answered a 429 itself. A body that is no valid request counts as a request
   * of no tokens (a 400 follows).
   */
  private refusedByRateLimit(endpoint: Endpoint<{ model: string }>, body: { model: string } | undefined, res: ServerResponse): boolean {
    const limiter = this.plan.rateLimiter;
    if (!limiter) return false;
    const tokens = body && limiter.countsTokens ? endpoint.promptTokens(body) + endpoint.outputTokensForRateLimit(body) : 0;
    const { headers, refusal } = limiter.admit(tokens, body?.model);
    setHeaders(res, headers);
    if (!refusal) return false;
    sendJson(res, 429, refusal.body, refusal.headers);
    this.counters.rateLimited++;
    return true;
  }

  private countModel(endpoint: Endpoint<{ model: string }>, text: string): { model: string } | undefined {
    try {
      const body = JSON.parse(text) as { model: string };
      if (typeof body?.model === 'string') this.counters.byModel[body.model] = (this.counters.byModel[body.model] ?? 0) + 1;
      return endpoint.validate(body) ? undefined : body;
    } catch {
      // Not JSON: answered with a 400 later, and counted under no model.
      return undefined;
    }
  }

  /** Sends (or withholds) the answer the fault calls for; returns the outcome to count. */
  private async answer(endpoint: Endpoint<{ model: string }>, req: IncomingMessage, res: ServerResponse, fault: Fault, text: string): Promise<string> {
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

    let body: { model: string };
    try {
      body = JSON.parse(text);
    } catch {
      sendJson(res, 400, openAiError('We could not parse the JSON body of your request.', 'invalid_request_error', null));
      return '400';
    }
    const invalid = endpoint.validate(body);
    if (invalid) {
      sendJson(res, 400, openAiError(invalid, 'invalid_request_error', null));
      return '400';
    }
    const number = ++this.requestNumber;
    const reply: Reply<{ model: string }> = {
      body,
      number,
      created: Math.floor(this.now() / 1000),
      promptTokens: endpoint.promptTokens(body),
      ...endpoint.replyText(body, this.plan.script.completionTokens, number),
    };
    return writeReply(res, endpoint, reply, fault, { delayMs: this.plan.script.streamChunkDelayMs, headers, stats: () => this.counters });
  }
}
