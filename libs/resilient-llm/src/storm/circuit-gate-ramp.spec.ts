import { CircuitOpenException } from './circuit-open.exception.js';
import { CircuitBreaker, type CircuitBreakerSettings } from './circuit-breaker.js';
import { CircuitGate, type CircuitPass } from './circuit-gate.js';
import { DEFAULT_OPEN_CIRCUIT } from './open-circuit-options.js';

const breakerSettings: CircuitBreakerSettings = { mode: 'consecutive', consecutiveFailures: 1, failureRate: 0.5, windowMs: 10_000, minimumCalls: 1, openMs: 5_000, halfOpenProbes: 1 };

// vitest's fake timers drive both the gate's timers and its clock (Date.now), so time moves only when a test moves it.
function openGate(settings: Partial<CircuitBreakerSettings> = {}, releaseRampMs = 1_000) {
  const breaker = new CircuitBreaker({ ...breakerSettings, ...settings });
  const gate = new CircuitGate(breaker, { ...DEFAULT_OPEN_CIRCUIT, releaseRampMs }, ['gpt-test']);
  breaker.onFailure(false, Date.now());
  return { breaker, gate };
}

/** Waiters queued in order; `released` lists their indexes in the order they were let through. */
function queue(gate: CircuitGate, count: number, maxWaitMs = 60_000) {
  const released: number[] = [];
  const refused: number[] = [];
  const passes: CircuitPass[] = [];
  for (let index = 0; index < count; index++) {
    gate.pass({ maxWaitMs }).then(
      (pass) => {
        released.push(index);
        passes[index] = pass;
      },
      () => refused.push(index),
    );
  }
  return { released, refused, passes };
}

const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);

/** Opened at 0; after this the probe (waiter 0) has closed the circuit at 5 000 and `waiters` more are ramping. */
async function closedByProbe(waiters: number, releaseRampMs = 1_000) {
  const { breaker, gate } = openGate({}, releaseRampMs);
  const queued = queue(gate, waiters + 1);
  await advance(5_000);
  expect(queued.passes[0]?.probe).toBe(true);
  breaker.onSuccess(true, Date.now());
  await advance(0);
  return { breaker, gate, ...queued };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('CircuitGate release ramp', () => {
  it('releases the waiters in FIFO order at the ramp: counts at given instants after the close', async () => {
    const { released } = await closedByProbe(10);
    const counts: Record<number, number> = {};
    let elapsed = 0;
    for (const at of [0, 100, 110, 500, 510, 900, 910]) {
      await advance(at - elapsed);
      elapsed = at;
      counts[at] = released.length - 1; // less the probe
    }
    expect(counts).toEqual({ 0: 1, 100: 1, 110: 2, 500: 5, 510: 6, 900: 9, 910: 10 });
    expect(released).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('never runs ahead of ceil(n0 * t / releaseRampMs), and lags it by one step at most', async () => {
    const { released } = await closedByProbe(40);
    for (let t = 0; t <= 1_000; t++) {
      const out = released.length - 1;
      expect(out).toBeLessThanOrEqual(Math.max(1, Math.ceil((40 * t) / 1_000)));
      expect(out).toBeGreaterThanOrEqual(Math.max(1, Math.ceil((40 * (t - 10)) / 1_000)));
      await advance(1);
    }
    expect(released.length).toBe(41);
  });

  it('lets halfOpenProbes go at once, and everyone at once with no ramp', async () => {
    const { breaker, gate } = openGate({ halfOpenProbes: 3 });
    const { released } = queue(gate, 23);
    await advance(5_000);
    expect(released).toEqual([0, 1, 2]);
    breaker.onSuccess(true, Date.now());
    await advance(0);
    expect(released.length).toBe(6);
    const noRamp = await closedByProbe(50, 0);
    expect(noRamp.released.length).toBe(51);
  });

  it('queues arrivals during the ramp behind the waiters; after the ramp requests pass at once again', async () => {
    const { gate, released } = await closedByProbe(10);
    await advance(500);
    const late = queue(gate, 1);
    await advance(490); // 990 ms: all 10 waiters are out, the late arrival waits for the ramp's end
    expect([released.length, late.released.length]).toEqual([11, 0]);
    await advance(10);
    expect(late.passes[0]).toEqual({ probe: false, heldMs: 500 });
    await expect(gate.pass({ maxWaitMs: 1 })).resolves.toEqual({ probe: false, heldMs: 0 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a failure of a released request may reopen the circuit: the rest keep waiting, those who cannot last are refused at once', async () => {
    const { breaker, gate } = openGate();
    const patient = queue(gate, 10);
    const hurried = queue(gate, 1, 10_000); // deadline at 10 000, before the next probe at 10 200
    await advance(5_000);
    breaker.onSuccess(true, Date.now());
    await advance(200); // waiters 1 and 2 are out
    breaker.onFailure(false, Date.now());
    await advance(0);
    expect(breaker.state).toBe('open');
    expect([patient.released, hurried.refused]).toEqual([[0, 1, 2], [0]]);
    await advance(4_999);
    expect(patient.released.length).toBe(3);
    await advance(1);
    expect(patient.released).toEqual([0, 1, 2, 3]);
    expect(patient.passes[3]?.probe).toBe(true);
  });
});

describe('CircuitGate on a probe failure', () => {
  it('reopens: waiters keep waiting, those whose deadline comes before the next probe fail at once', async () => {
    const { breaker, gate } = openGate();
    const errors: unknown[] = [];
    const probe = queue(gate, 1);
    const hurried = gate.pass({ maxWaitMs: 7_000 }).catch((error: unknown) => errors.push(error));
    const patient = queue(gate, 1);
    await advance(5_100);
    breaker.onFailure(true, Date.now());
    await hurried;
    expect(errors[0]).toBeInstanceOf(CircuitOpenException);
    expect((errors[0] as CircuitOpenException).retryAfterSeconds).toBe(5);
    expect(Date.now()).toBe(5_100); // at once, not at its deadline
    await advance(4_999);
    expect(patient.released).toEqual([]);
    await advance(1);
    expect([probe.passes[0]?.probe, patient.passes[0]]).toEqual([true, { probe: true, heldMs: 10_100 }]);
  });
});

describe('CircuitGate and transitions adopted from other replicas', () => {
  it('a remote opening makes new arrivals wait for the probe time that replica set', async () => {
    const transitions: string[] = [];
    const breaker = new CircuitBreaker(breakerSettings, (from, to, info) => transitions.push(`${from}>${to}${info.remote ? ' remote' : ''}`));
    const gate = new CircuitGate(breaker, DEFAULT_OPEN_CIRCUIT, ['gpt-test']);
    await advance(1_000);
    breaker.adopt({ state: 'open', openedAt: 500 }, Date.now());
    const { passes } = queue(gate, 2);
    await advance(4_499);
    expect(passes).toEqual([]);
    await advance(1);
    expect(passes).toEqual([{ probe: true, heldMs: 4_500 }]);
    expect(transitions).toEqual(['closed>open remote', 'open>half_open']);
  });

  it('a remote close (another replica\'s probe succeeded) releases the waiters at the ramp, no probe of ours needed', async () => {
    const { breaker, gate } = openGate();
    const { released, passes } = queue(gate, 4);
    await advance(3_000);
    breaker.adopt({ state: 'closed', openedAt: 0 }, Date.now());
    await advance(0);
    expect(released).toEqual([0]);
    await advance(250); // ceil(4 * 250 / 1 000) = 1
    expect(released).toEqual([0]);
    await advance(10);
    expect(released).toEqual([0, 1]);
    await advance(740);
    expect(released).toEqual([0, 1, 2, 3]);
    expect(passes.every((pass) => !pass.probe)).toBe(true);
  });
});
