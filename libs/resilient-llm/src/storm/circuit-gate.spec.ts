import { CircuitOpenException } from './circuit-open.exception.js';
import { ShuttingDownException } from '../errors/shutting-down.exception.js';
import { CircuitBreaker, type CircuitBreakerSettings } from './circuit-breaker.js';
import { CircuitGate, type CircuitPass } from './circuit-gate.js';
import { DEFAULT_OPEN_CIRCUIT, type OpenCircuitSettings } from './open-circuit-options.js';

const breakerSettings: CircuitBreakerSettings = { mode: 'consecutive', consecutiveFailures: 1, failureRate: 0.5, windowMs: 10_000, minimumCalls: 1, openMs: 5_000, halfOpenProbes: 1 };

// vitest's fake timers drive both the gate's timers and its clock (Date.now), so time moves only when a test moves it.
function openGate(open: Partial<OpenCircuitSettings> = {}) {
  const breaker = new CircuitBreaker(breakerSettings);
  const gate = new CircuitGate(breaker, { ...DEFAULT_OPEN_CIRCUIT, ...open }, ['gpt-test']);
  breaker.onFailure(false, Date.now());
  return { breaker, gate };
}

/** What became of a pass, readable without awaiting it. */
function watch(promise: Promise<CircuitPass>) {
  const seen: { state: 'waiting' | 'passed' | 'refused'; pass?: CircuitPass; error?: unknown } = { state: 'waiting' };
  promise.then(
    (pass) => Object.assign(seen, { state: 'passed', pass }),
    (error: unknown) => Object.assign(seen, { state: 'refused', error }),
  );
  return seen;
}

const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);
const retryAfterSeconds = (error: unknown) => (error as CircuitOpenException).retryAfterSeconds;

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('CircuitGate while the circuit is open', () => {
  it('lets a request through at once, with one shared settled promise, while closed and nobody waits', async () => {
    const gate = new CircuitGate(new CircuitBreaker(breakerSettings), DEFAULT_OPEN_CIRCUIT, ['gpt-test']);
    const first = gate.pass({ maxWaitMs: 1_000 });
    expect(gate.pass({ maxWaitMs: 1 })).toBe(first);
    await expect(first).resolves.toEqual({ probe: false, heldMs: 0 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('holds requests while open; when the open period ends the first becomes the probe, the rest keep waiting', async () => {
    const { gate } = openGate();
    await advance(1_000);
    const first = watch(gate.pass({ maxWaitMs: 30_000 }));
    const second = watch(gate.pass({ maxWaitMs: 30_000 }));
    await advance(3_999);
    expect([first.state, second.state]).toEqual(['waiting', 'waiting']);
    await advance(1);
    expect(first).toEqual({ state: 'passed', pass: { probe: true, heldMs: 4_000 } });
    expect(second.state).toBe('waiting');
    expect(gate.waiting).toBe(1);
  });

  it('refuses at once, with Retry-After, a request whose deadline comes before the next probe', async () => {
    const { gate } = openGate();
    await advance(1_000);
    const early = watch(gate.pass({ maxWaitMs: 3_999 }));
    const onTime = watch(gate.pass({ maxWaitMs: 4_000 }));
    await advance(0);
    expect(early.state).toBe('refused');
    expect(early.error).toBeInstanceOf(CircuitOpenException);
    expect(retryAfterSeconds(early.error)).toBe(4);
    expect(onTime.state).toBe('waiting');
  });

  it('a waiter whose wait runs out leaves the queue with 503', async () => {
    const { gate } = openGate();
    const probe = watch(gate.pass({ maxWaitMs: 60_000 }));
    const patient = watch(gate.pass({ maxWaitMs: 60_000 }));
    const hurried = watch(gate.pass({ maxWaitMs: 5_500 }));
    await advance(5_499);
    expect([probe.state, patient.state, hurried.state]).toEqual(['passed', 'waiting', 'waiting']);
    await advance(1);
    expect(hurried.state).toBe('refused');
    expect(hurried.error).toBeInstanceOf(CircuitOpenException);
    expect(gate.waiting).toBe(1);
  });

  it('bounds the queue: the request past maxWaiting is refused at once', async () => {
    const { gate } = openGate({ maxWaiting: 2 });
    const waiters = [0, 1, 2].map(() => watch(gate.pass({ maxWaitMs: 60_000 })));
    await advance(0);
    expect(waiters.map((waiter) => waiter.state)).toEqual(['waiting', 'waiting', 'refused']);
    expect(retryAfterSeconds(waiters[2].error)).toBe(5);
    expect(gate.waiting).toBe(2);
  });

  it('an aborted waiter leaves with the abort reason and the next in line takes its turn', async () => {
    const { gate } = openGate();
    const controller = new AbortController();
    const aborted = watch(gate.pass({ maxWaitMs: 60_000, signal: controller.signal }));
    const next = watch(gate.pass({ maxWaitMs: 60_000 }));
    const reason = new Error('client went away');
    controller.abort(reason);
    await advance(5_000);
    expect(aborted).toEqual({ state: 'refused', error: reason });
    expect(next).toEqual({ state: 'passed', pass: { probe: true, heldMs: 5_000 } });
  });

  it('a probe that ends without a verdict (aborted) hands its role to the next waiter, in FIFO order', async () => {
    const { breaker, gate } = openGate();
    const waiters = [0, 1, 2].map(() => watch(gate.pass({ maxWaitMs: 60_000 })));
    await advance(5_000);
    expect(waiters.map((waiter) => waiter.state)).toEqual(['passed', 'waiting', 'waiting']);
    breaker.onNeutral(true);
    await advance(0);
    expect(waiters.map((waiter) => waiter.state)).toEqual(['passed', 'passed', 'waiting']);
    expect(waiters[1].pass?.probe).toBe(true);
  });

  it('after the open period, a lone arrival is the probe at once; later ones wait for its verdict', async () => {
    const { gate } = openGate();
    await advance(5_000);
    await expect(gate.pass({ maxWaitMs: 100 })).resolves.toEqual({ probe: true, heldMs: 0 });
    const next = watch(gate.pass({ maxWaitMs: 100 }));
    await advance(100);
    expect(next.state).toBe('refused');
  });

  it('close() refuses every waiter and later ones as the service shuts down, and leaves no timer', async () => {
    const { gate } = openGate();
    const waiters = [0, 1].map(() => watch(gate.pass({ maxWaitMs: 60_000 })));
    gate.close();
    await advance(0);
    expect(waiters.map((waiter) => waiter.error instanceof ShuttingDownException)).toEqual([true, true]);
    await expect(gate.pass({ maxWaitMs: 60_000 })).rejects.toBeInstanceOf(ShuttingDownException);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('leaves no timer running once nobody waits', async () => {
    const { gate } = openGate();
    const controller = new AbortController();
    void watch(gate.pass({ maxWaitMs: 60_000, signal: controller.signal }));
    expect(vi.getTimerCount()).toBe(2); // its deadline, the end of the open period
    controller.abort();
    await advance(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("CircuitGate in 'fail' mode", () => {
  it('refuses at once while open, then lets the probes through, and queues nobody', async () => {
    const { gate } = openGate({ whenOpen: 'fail' });
    await advance(2_000);
    const refused = watch(gate.pass({ maxWaitMs: 60_000 }));
    await advance(0);
    expect(refused.state).toBe('refused');
    expect(retryAfterSeconds(refused.error)).toBe(3);
    await advance(3_000);
    await expect(gate.pass({ maxWaitMs: 60_000 })).resolves.toEqual({ probe: true, heldMs: 0 });
    await expect(gate.pass({ maxWaitMs: 60_000 })).rejects.toBeInstanceOf(CircuitOpenException);
    expect(gate.waiting).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
