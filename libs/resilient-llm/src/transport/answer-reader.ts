import { Injectable } from '@nestjs/common';
import type { Span } from '@opentelemetry/api';
import { type FailureClassification, classifyStreamError } from '../backoff/error-classifier.js';
import { LlmCallFailedException } from '../errors/llm-call-failed.exception.js';
import type { GuardedCall } from '../guarded/guarded-call.context.js';
import type { ResolvedResilientLlmOptions } from '../module/resilient-llm-options.interface.js';
import type { TokenUsage } from '../pricing/model-price.interface.js';
import { InjectResilientLlmOptions } from '../resilient-llm.constants.js';
import { ResilientLlmTelemetry } from '../telemetry/resilient-llm.telemetry.js';
import { type JsonBody, parseJsonObject, tokensOfText } from './adapters/index.js';
import { type StreamOutcome, tapEventStream } from './event-stream-tap.js';
import type { UpstreamRequest } from './upstream-request.js';

export interface AcceptedAttempt {
  model: string;
  span?: Span;
  /** Aborts the attempt: the SDK's stream closed by its reader, a disconnect, shutdown. */
  signal: AbortSignal;
  /** False with `retry: 'handler'`, where the handler's run owns the span. */
  ownsSpan: boolean;
  /** Records the attempt on the call, once its outcome is known. */
  record(error?: unknown, classification?: FailureClassification): void;
  /** Frees the slot and the headroom the attempt held. */
  done(): void;
}

// A stream from an endpoint without an adapter is passed through, read for nothing.
const NO_EVENTS = { readEvent: () => ({}) };

const isEventStream = (response: Response) => (response.headers.get('content-type') ?? '').includes('text/event-stream');

/**
 * Reads what a successful answer used and records it against the call: a plain answer at
 * once, a stream as it is read (the call settles only once it is done). Hands the SDK a
 * `Response` it can read as if it came from the upstream.
 */
@Injectable()
export class AnswerReader {
  constructor(
    private readonly telemetry: ResilientLlmTelemetry,
    @InjectResilientLlmOptions() private readonly options: ResolvedResilientLlmOptions,
  ) {}

  async accept(call: GuardedCall, request: UpstreamRequest, response: Response, attempt: AcceptedAttempt): Promise<Response> {
    const init = { status: response.status, statusText: response.statusText, headers: response.headers };
    if (isEventStream(response) && response.body) return new Response(this.tap(call, request, response.body, attempt), init);
    const text = await response.text();
    const { adapter, body } = request;
    if (adapter && body) {
      const answer = parseJsonObject(text);
      const reported = answer && adapter.usageOf(answer);
      const usage = reported ?? { inputTokens: adapter.promptTokens(body), outputTokens: tokensOfText(text) };
      call.recordUsage(attempt.model, usage, !reported);
      this.completion(request, body, attempt, usage, answer);
    }
    attempt.record();
    if (attempt.ownsSpan && attempt.span) this.telemetry.endAttempt(attempt.span, attempt.model);
    attempt.done();
    return new Response(text, init);
  }

  private tap(call: GuardedCall, request: UpstreamRequest, stream: ReadableStream<Uint8Array>, attempt: AcceptedAttempt): ReadableStream<Uint8Array> {
    const { adapter, body } = request;
    // Held from here, not from the first read: the call must not settle before the stream is read.
    const release = call.hold();
    let classification: FailureClassification | undefined;
    const finish = (outcome: StreamOutcome) => {
      try {
        if (adapter && body) {
          // A delta carries about one token: what was read is what was billed, at least.
          const usage = outcome.usage ?? { inputTokens: adapter.promptTokens(body), outputTokens: outcome.outputDeltas };
          call.recordUsage(attempt.model, usage, !outcome.usage);
          this.completion(request, body, attempt, { ...usage, responseModel: outcome.responseModel, responseId: outcome.responseId });
        }
        attempt.record(classification && call.failure, classification);
        if (attempt.ownsSpan && attempt.span) this.telemetry.endAttempt(attempt.span, attempt.model, classification && { classification, retrying: false });
      } finally {
        attempt.done();
        release();
      }
    };
    return tapEventStream(stream, adapter ?? NO_EVENTS, {
      signal: attempt.signal,
      idleMs: this.options.client.attemptTimeoutMs,
      onDone: finish,
      errorFor: (reported) => {
        classification = classifyStreamError(reported.code);
        call.giveUpReason = 'not_retryable';
        call.failure = new LlmCallFailedException({ retry: false, reason: 'not_retryable', classification }, call.attempts.length + 1, undefined);
        return call.failure;
      },
    });
  }

  private completion(request: UpstreamRequest, body: JsonBody, attempt: AcceptedAttempt, usage: TokenUsage & { responseModel?: string; responseId?: string }, answer?: JsonBody): void {
    const content = this.options.telemetry.captureContent ? request.adapter!.contentOf(body, answer) : {};
    this.telemetry.completion(attempt.span, {
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

