import { Inject, Injectable } from '@nestjs/common';
import type { Span } from '@opentelemetry/api';
import { type FailureClassification, classifyStreamError } from '../backoff/error-classifier.js';
import { LlmCallFailedException } from '../guarded/llm-call-failed.exception.js';
import type { GuardedCall } from '../guarded/guarded-call.context.js';
import type { TokenUsage } from '../pricing/model-price.interface.js';
import { InjectTransportSettings } from '../resilient-llm.constants.js';
import { type GuardedCallEvents, RESILIENT_LLM_CALL_EVENTS } from '../guarded/guarded-call-events.js';
import { type JsonBody, parseJsonObject, tokensOfText } from './adapters/index.js';
import type { StreamOutcome } from './event-stream-reading.js';
import { tapEventStream } from './event-stream-tap.js';
import { ParsedAnswer } from './parsed-answer.js';
import type { UpstreamRequest } from './upstream-request.js';
import type { TransportSettings } from './transport-settings.interface.js';

export interface AcceptedAttempt {
  model: string;
  span?: Span;
  /** Aborts the attempt: the SDK's stream closed by its reader, a disconnect, shutdown. */
  signal: AbortSignal;
  /** A stream that delivers nothing for this long (to a reader, or from the upstream) is closed. */
  idleMs: number;
  /** False with `retry: 'handler'`, where the handler's run owns the span. */
  ownsSpan: boolean;
  /** Records the attempt on the call, once its outcome is known. */
  record(error?: unknown, classification?: FailureClassification): void;
  /** Frees the slot, the headroom and the hold the attempt took. */
  done(): void;
}

// Statuses whose answer has no body: a Response built with one would throw.
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

const isEventStream = (response: Response) => (response.headers.get('content-type') ?? '').includes('text/event-stream');
const isJson = (response: Response) => (response.headers.get('content-type') ?? '').includes('json');

/**
 * Reads what a successful answer used and records it against the call: a JSON answer at once,
 * a stream as it is read. Hands the SDK a `Response` it can read as if it came from the
 * upstream; answers the transport has no adapter for (files, audio) pass through untouched.
 */
@Injectable()
export class AnswerReader {
  constructor(
    @Inject(RESILIENT_LLM_CALL_EVENTS) private readonly events: GuardedCallEvents,
    @InjectTransportSettings() private readonly options: TransportSettings,
  ) {}

  async accept(call: GuardedCall, request: UpstreamRequest, response: Response, attempt: AcceptedAttempt): Promise<Response> {
    const init = { status: response.status, statusText: response.statusText, headers: response.headers };
    const { adapter, body } = request;
    if (!response.body || NULL_BODY_STATUSES.has(response.status)) {
      this.finishPlain(call, request, attempt);
      return new Response(null, init);
    }
    if (adapter && body && isEventStream(response)) return new Response(this.tap(call, request, response.body, attempt), init);
    if (!adapter || !body || !isJson(response)) return new Response(this.passThrough(call, request, response.body, attempt), init);
    const text = await response.text();
    const answer = parseJsonObject(text);
    const reported = answer && adapter.usageOf(answer);
    const usage = reported ?? { inputTokens: request.promptTokens(attempt.model), outputTokens: tokensOfText(text) };
    call.recordUsage(attempt.model, usage, !reported);
    this.completion(request, body, attempt, usage, answer);
    this.finishPlain(call, request, attempt);
    return answer ? new ParsedAnswer(text, response, answer) : new Response(text, init);
  }

  /** The attempt succeeded; a request the transport cannot price is counted at its worst case. */
  private finishPlain(call: GuardedCall, request: UpstreamRequest, attempt: AcceptedAttempt): void {
    if (!request.adapter && request.costs) call.recordCharge(attempt.model, request.worstCaseMicro(attempt.model, call.budget.estimateMicro));
    attempt.record();
    if (attempt.ownsSpan && attempt.span) this.events.endAttempt(attempt.span, attempt.model);
    attempt.done();
  }

  private passThrough(call: GuardedCall, request: UpstreamRequest, stream: ReadableStream<Uint8Array>, attempt: AcceptedAttempt): ReadableStream<Uint8Array> {
    return tapEventStream(stream, undefined, {
      signal: attempt.signal,
      idleMs: attempt.idleMs,
      onDone: () => this.finishPlain(call, request, attempt),
      errorFor: () => new Error('unreachable: a pass-through stream reads no events'),
      idleError: () => this.stalled(call, attempt),
    });
  }

  private tap(call: GuardedCall, request: UpstreamRequest, stream: ReadableStream<Uint8Array>, attempt: AcceptedAttempt): ReadableStream<Uint8Array> {
    const adapter = request.adapter!;
    const body = request.body!;
    let classification: FailureClassification | undefined;
    const failWith = (reported: { code?: string }) => {
      classification = classifyStreamError(reported.code);
      call.giveUpReason = 'not_retryable';
      call.failure = new LlmCallFailedException({ retry: false, reason: 'not_retryable', classification }, call.attempts.length + 1, undefined);
      return call.failure;
    };
    const finish = (outcome: StreamOutcome) => {
      // The SDK may have raised the error event itself (a chat chunk with `error`) before the tap could.
      if (outcome.error && !classification) failWith(outcome.error);
      try {
        // A delta carries about one token: what was read is what was billed, at least.
        const usage = outcome.usage ?? { inputTokens: request.promptTokens(attempt.model), outputTokens: outcome.outputDeltas };
        call.recordUsage(attempt.model, usage, !outcome.usage);
        this.completion(request, body, attempt, { ...usage, responseModel: outcome.responseModel, responseId: outcome.responseId });
        attempt.record(classification && call.failure, classification);
        if (attempt.ownsSpan && attempt.span) this.events.endAttempt(attempt.span, attempt.model, classification && { classification, retrying: false });
      } finally {
        attempt.done();
      }
    };
    return tapEventStream(stream, adapter, {
      signal: attempt.signal,
      idleMs: attempt.idleMs,
      onDone: finish,
      errorFor: failWith,
      idleError: () => this.stalled(call, attempt),
    });
  }

  /** A started answer that stopped moving (nobody read it, or the upstream stalled): a clear 502, never re-sent. */
  private stalled(call: GuardedCall, attempt: AcceptedAttempt): Error {
    const classification: FailureClassification = {
      kind: 'timeout',
      retryable: false,
      reason: `the answer moved nothing for ${attempt.idleMs} ms and was closed; a started answer is never sent again`,
    };
    call.giveUpReason = 'not_retryable';
    call.failure = new LlmCallFailedException({ retry: false, reason: 'not_retryable', classification }, call.attempts.length + 1, undefined);
    return call.failure;
  }

  private completion(request: UpstreamRequest, body: JsonBody, attempt: AcceptedAttempt, usage: TokenUsage & { responseModel?: string; responseId?: string }, answer?: JsonBody): void {
    const content = this.options.telemetry.captureContent ? request.adapter!.contentOf(body, answer) : {};
    this.events.completion(attempt.span, {
      operation: request.operation,
      requestModel: attempt.model,
      responseModel: usage.responseModel ?? (typeof answer?.model === 'string' ? answer.model : undefined),
      responseId: usage.responseId ?? (typeof answer?.id === 'string' ? answer.id : undefined),
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      ...content,
    });
  }
}
