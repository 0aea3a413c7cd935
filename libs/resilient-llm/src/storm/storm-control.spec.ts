import type { TestingModule } from '@nestjs/testing';
import { Test } from '@nestjs/testing';
import type { FailureClassification } from '../backoff/error-classifier.js';
import type { ResilientLlmModuleOptions } from '../module/resilient-llm-options.interface.js';
import { resolveModuleOptions } from '../module/resilient-llm-options.validation.js';
import { settingsProviders } from '../module/settings.providers.js';
import { RESILIENT_LLM_CLOCK, RESILIENT_LLM_OPTIONS } from '../resilient-llm.constants.js';
import { ManualClock } from '../testing/index.js';
import { settle } from '../testing/manual-timers.js';
import { CircuitOpenException } from './circuit-open.exception.js';
import { type CircuitTransition, StormControl, type UpstreamPass } from './storm-control.js';

const SERVER_ERROR: FailureClassification = { kind: 'server_error', retryable: true, status: 500, reason: '500 from the upstream' };
// One failure opens a circuit for a second: the smallest setting that shows every state.
const ONE_FAILURE_OPENS = { mode: 'consecutive', consecutiveFailures: 1, openMs: 1_000, halfOpenProbes: 1 } as const;
const NO_TOKENS = () => 0;

/** Whether a promise has settled yet, once every continuation that is ready has run. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await settle();
  return settled;
}

describe('StormControl', () => {
  let clock: ManualClock;
  let moduleRef: TestingModule | undefined;

  beforeEach(() => {
    clock = new ManualClock();
  });

  afterEach(async () => {
    await moduleRef?.close();
    moduleRef = undefined;
    vi.useRealTimers();
  });

  async function stormControl(stormOptions: ResilientLlmModuleOptions['stormControl']): Promise<StormControl> {
    moduleRef = await Test.createTestingModule({
      providers: [
        StormControl,
        { provide: RESILIENT_LLM_OPTIONS, useValue: resolveModuleOptions({ stormControl: stormOptions }) },
        ...settingsProviders,
        { provide: RESILIENT_LLM_CLOCK, useValue: clock },
      ],
    }).compile();
    return moduleRef.get(StormControl);
  }

  const enter = (storm: StormControl, model: string, maxWaitMs = 10_000, signal?: AbortSignal): Promise<UpstreamPass> =>
    storm.enter(model, false, () => signal, maxWaitMs, NO_TOKENS);

  async function openCircuit(storm: StormControl, model: string): Promise<void> {
    const pass = await enter(storm, model);
    pass.report(SERVER_ERROR);
    pass.release();
  }

  describe('concurrency', () => {
    it('takes a slot per model and gives it back on release', async () => {
      const storm = await stormControl({ concurrency: { limit: 1 } });
      const first = await enter(storm, 'gpt-4o');

      const second = enter(storm, 'gpt-4o');
      expect(await isSettled(second)).toBe(false);
      // Another model has slots of its own.
      await expect(enter(storm, 'gpt-4o-mini')).resolves.toBeDefined();

      first.release();
      const secondPass = await second;
      // Released twice, a pass frees one slot only.
      first.release();
      const third = enter(storm, 'gpt-4o');
      expect(await isSettled(third)).toBe(false);
      secondPass.release();
      await expect(third).resolves.toBeDefined();
    });
  });

  describe('a pass taken at once (passNow)', () => {
    it('takes a free slot, and leaves a request that would wait to enter', async () => {
      const storm = await stormControl({ concurrency: { limit: 1 } });
      const first = storm.passNow('gpt-4o', false);
      expect(first).toBeDefined();
      expect(storm.passNow('gpt-4o', false)).toBeUndefined();
      const queued = enter(storm, 'gpt-4o');
      first!.release();
      await expect(queued).resolves.toBeDefined();
    });

    it('is not given while a circuit is open, and reports to the circuit like a pass from enter', async () => {
      const storm = await stormControl({ circuitBreaker: ONE_FAILURE_OPENS });
      const pass = storm.passNow('gpt-4o', false)!;
      pass.report(SERVER_ERROR);
      pass.release();
      expect(storm.passNow('gpt-4o', false)).toBeUndefined();
      expect(storm.passNow('gpt-4o-mini', false)).toBeDefined();
    });
  });

  describe("with whenOpen: 'fail'", () => {
    it('refuses at once while the circuit is open, and lets a probe through once it half-opens', async () => {
      const storm = await stormControl({ circuitBreaker: ONE_FAILURE_OPENS, whenOpen: 'fail' });
      await openCircuit(storm, 'gpt-4o');

      const refusal = await enter(storm, 'gpt-4o').catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(CircuitOpenException);
      expect((refusal as CircuitOpenException).retryAfterSeconds).toBe(1);
      expect(() => storm.chooseModel('gpt-4o')).toThrow(CircuitOpenException);
      // The circuit is per model.
      await expect(enter(storm, 'gpt-4o-mini')).resolves.toBeDefined();

      clock.advance(1_000);
      const probe = await enter(storm, 'gpt-4o');
      probe.report();
      expect(storm.chooseModel('gpt-4o')).toBe('gpt-4o');
    });
  });

  describe("with whenOpen: 'wait'", () => {
    // The circuit's gate wakes on Node's timers read against the injected clock: both move together here.
    async function advance(ms: number): Promise<void> {
      clock.advance(ms);
      await vi.advanceTimersByTimeAsync(ms);
    }

    beforeEach(() => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    });

    it('holds a request until the circuit half-opens, when that comes within its deadline', async () => {
      const storm = await stormControl({ circuitBreaker: ONE_FAILURE_OPENS, whenOpen: 'wait' });
      await openCircuit(storm, 'gpt-4o');
      expect(storm.chooseModel('gpt-4o')).toBe('gpt-4o');

      const held = enter(storm, 'gpt-4o', 5_000);
      await advance(999);
      expect(await isSettled(held)).toBe(false);

      await advance(1);
      const pass = await held;
      expect(pass.heldMs).toBe(1_000);
    });

    it('refuses at once a request whose deadline comes before the circuit half-opens', async () => {
      const storm = await stormControl({ circuitBreaker: ONE_FAILURE_OPENS, whenOpen: 'wait' });
      await openCircuit(storm, 'gpt-4o');

      const refused = enter(storm, 'gpt-4o', 500);
      expect(await isSettled(refused)).toBe(true);
      await expect(refused).rejects.toBeInstanceOf(CircuitOpenException);
    });

    it('lets a held request go when its caller aborts', async () => {
      const storm = await stormControl({ circuitBreaker: ONE_FAILURE_OPENS, whenOpen: 'wait' });
      await openCircuit(storm, 'gpt-4o');
      const caller = new AbortController();
      const gone = new Error('client went away');

      const held = enter(storm, 'gpt-4o', 5_000, caller.signal);
      expect(await isSettled(held)).toBe(false);
      caller.abort(gone);
      await expect(held).rejects.toBe(gone);
    });
  });

  it('reset() closes every circuit', async () => {
    const storm = await stormControl({ circuitBreaker: ONE_FAILURE_OPENS, whenOpen: 'fail' });
    await openCircuit(storm, 'gpt-4o');
    await openCircuit(storm, 'gpt-4o-mini');

    storm.reset();
    await expect(enter(storm, 'gpt-4o')).resolves.toBeDefined();
    await expect(enter(storm, 'gpt-4o-mini')).resolves.toBeDefined();
  });

  it('tells circuit transitions to its listeners until they unsubscribe', async () => {
    const storm = await stormControl({ circuitBreaker: ONE_FAILURE_OPENS, whenOpen: 'fail' });
    const seen: CircuitTransition[] = [];
    const unsubscribe = storm.onCircuitTransition((transition) => seen.push(transition));

    await openCircuit(storm, 'gpt-4o');
    expect(seen).toEqual([{ model: 'gpt-4o', from: 'closed', to: 'open', atMs: clock.now(), remote: false }]);

    clock.advance(1_000);
    const probe = await enter(storm, 'gpt-4o');
    probe.report();
    expect(seen.map(({ from, to }) => `${from}->${to}`)).toEqual(['closed->open', 'open->half_open', 'half_open->closed']);

    unsubscribe();
    await openCircuit(storm, 'gpt-4o');
    expect(seen).toHaveLength(3);
  });
});
