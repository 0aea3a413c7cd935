import type { GuardedCall } from '../guarded/guarded-call.context.js';

/**
 * What can end one attempt, on the one signal its fetch gets: the call's abort (a disconnect,
 * shutdown), the caller's own signal (the SDK's), and the attempt's timeout until its answer
 * starts. Plain listeners, removed when the attempt ends: `AbortSignal.any` costs a signal,
 * weak references and a finalizer per attempt, a measurable share of a guarded call.
 */
export class AttemptAbort {
  private readonly controller = new AbortController();
  private readonly timer: ReturnType<typeof setTimeout>;
  private readonly unsubscribe: () => void;
  private ended = false;
  /** The attempt's own timeout fired. */
  timedOut = false;

  constructor(
    private readonly call: GuardedCall,
    private readonly callerSignal: AbortSignal | undefined,
    readonly timeoutMs: number,
  ) {
    const abort = (reason: unknown) => this.controller.abort(reason);
    const fromCaller = () => abort(callerSignal!.reason);
    if (callerSignal?.aborted) abort(callerSignal.reason);
    else callerSignal?.addEventListener('abort', fromCaller, { once: true });
    const fromCall = call.onAbort(abort);
    this.unsubscribe = () => {
      fromCall();
      callerSignal?.removeEventListener('abort', fromCaller);
    };
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort();
    }, timeoutMs);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The call or its caller gave up (not the attempt's timeout). */
  get byCaller(): boolean {
    return this.call.aborted || this.callerSignal?.aborted === true;
  }

  /** The answer started (or the attempt failed): its timeout no longer applies. */
  stopTimer(): void {
    clearTimeout(this.timer);
  }

  /** The attempt is over (its answer read, or given up): nothing aborts it any more. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.timer);
    this.unsubscribe();
  }
}
