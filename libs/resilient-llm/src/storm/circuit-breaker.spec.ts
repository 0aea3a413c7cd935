import { CircuitBreaker, type CircuitBreakerSettings, type CircuitSnapshot } from './circuit-breaker.js';

const settings: CircuitBreakerSettings = { mode: 'consecutive', consecutiveFailures: 3, failureRate: 0.5, windowMs: 10_000, minimumCalls: 4, openMs: 1_000, halfOpenProbes: 2 };

const recorder = () => {
  const transitions: string[] = [];
  const listener = (from: string, to: string, info: { remote: boolean }) => transitions.push(`${from}>${to}${info.remote ? ' remote' : ''}`);
  return { transitions, listener };
};
const tripped = (breaker: CircuitBreaker, at: number) => {
  for (let failure = 0; failure < settings.consecutiveFailures; failure++) breaker.onFailure(false, at);
};

describe('CircuitBreaker', () => {
  it('opens after consecutive failures, fails fast, then lets the probe count through', () => {
    const { transitions, listener } = recorder();
    const breaker = new CircuitBreaker(settings, listener);
    for (let failure = 0; failure < 3; failure++) {
      expect(breaker.admit(0)).toEqual({ allowed: true, probe: false });
      breaker.onFailure(false, 0);
    }
    expect(breaker.state).toBe('open');
    expect(breaker.admit(400)).toEqual({ allowed: false, retryAfterMs: 600 });
    expect(breaker.admit(1_000)).toEqual({ allowed: true, probe: true });
    expect(breaker.admit(1_000)).toEqual({ allowed: true, probe: true });
    expect(breaker.admit(1_000).allowed).toBe(false);
    breaker.onFailure(true, 1_100);
    expect(breaker.state).toBe('open');
    expect(breaker.admit(2_100)).toEqual({ allowed: true, probe: true });
    breaker.onSuccess(true, 2_100);
    expect(breaker.state).toBe('closed');
    expect(transitions).toEqual(['closed>open', 'open>half_open', 'half_open>open', 'open>half_open', 'half_open>closed']);
  });

  it('hands a probe slot back when the probe says nothing about the upstream (the caller aborted)', () => {
    const breaker = new CircuitBreaker({ ...settings, halfOpenProbes: 1 });
    for (let failure = 0; failure < 3; failure++) breaker.onFailure(false, 0);
    expect(breaker.admit(1_000)).toEqual({ allowed: true, probe: true });
    expect(breaker.admit(1_000).allowed).toBe(false);
    breaker.onNeutral(true);
    expect(breaker.state).toBe('half_open');
    expect(breaker.admit(1_000)).toEqual({ allowed: true, probe: true });
  });

  it('a success resets the consecutive count', () => {
    const breaker = new CircuitBreaker(settings);
    breaker.onFailure(false, 0);
    breaker.onFailure(false, 0);
    breaker.onSuccess(false, 0);
    breaker.onFailure(false, 0);
    breaker.onFailure(false, 0);
    expect(breaker.state).toBe('closed');
  });

  it('rate mode opens when the failure share of the time window reaches the rate, after the minimum calls', () => {
    const breaker = new CircuitBreaker({ ...settings, mode: 'rate' });
    breaker.onFailure(false, 0);
    breaker.onSuccess(false, 0);
    breaker.onFailure(false, 0);
    expect(breaker.state).toBe('closed'); // 3 calls < minimumCalls
    breaker.onSuccess(false, 0);
    expect(breaker.state).toBe('closed'); // 2 of 4 = 50%, checked on failures only
    breaker.onFailure(false, 0);
    expect(breaker.state).toBe('open'); // 3 of 5
  });

  it('rate mode forgets outcomes older than the window, and concurrent failures landing together do not trip it', () => {
    const breaker = new CircuitBreaker({ ...settings, mode: 'rate', minimumCalls: 20 });
    for (let call = 0; call < 950; call++) breaker.onSuccess(false, 100);
    for (let call = 0; call < 50; call++) breaker.onFailure(false, 2_000); // 5% timing out at once
    expect(breaker.state).toBe('closed');
    for (let call = 0; call < 20; call++) breaker.onFailure(false, 12_001); // the successes have left the window
    expect(breaker.state).toBe('open');
  });
});

describe('CircuitBreaker state (toJSON, initialState, adopt)', () => {
  it('toJSON round-trips through JSON: state, opening time and failure history', () => {
    const breaker = new CircuitBreaker({ ...settings, mode: 'rate' });
    breaker.onSuccess(false, 100);
    breaker.onFailure(false, 200);
    breaker.onFailure(false, 300);
    const stored = JSON.parse(JSON.stringify(breaker)) as CircuitSnapshot;
    expect(stored).toEqual({ state: 'closed', openedAt: 0, consecutiveFailures: 2, outcomes: [{ at: 100, ok: true }, { at: 200, ok: false }, { at: 300, ok: false }] });
    const restarted = new CircuitBreaker({ ...settings, mode: 'rate' }, undefined, { initialState: stored });
    expect(restarted.toJSON()).toEqual(stored);
    restarted.onFailure(false, 400); // 3 of 4 failed, minimumCalls reached: only with the history restored
    expect(restarted.state).toBe('open');
  });

  it('starts open from a snapshot, fires no transition for it, and half-opens openMs after the stored opening', () => {
    const { transitions, listener } = recorder();
    const breaker = new CircuitBreaker(settings, listener, { initialState: { state: 'open', openedAt: 5_000, consecutiveFailures: 0, outcomes: [] } });
    expect(breaker.state).toBe('open');
    expect(breaker.waitMs(5_400)).toBe(600);
    expect(breaker.admit(6_000)).toEqual({ allowed: true, probe: true });
    expect(transitions).toEqual(['open>half_open']);
  });

  it('adopt: a remote opening and a remote probe\'s close reach listeners marked remote', () => {
    const { transitions, listener } = recorder();
    const breaker = new CircuitBreaker(settings, listener);
    const elsewhere = new CircuitBreaker(settings);
    tripped(elsewhere, 10_000);
    breaker.adopt(elsewhere.toJSON(), 10_050);
    expect(breaker.state).toBe('open');
    expect(breaker.waitMs(10_050)).toBe(950); // the other replica's opening time, not ours
    elsewhere.admit(11_000);
    elsewhere.onSuccess(true, 11_010);
    breaker.adopt(elsewhere.toJSON(), 11_020);
    expect(breaker.state).toBe('closed');
    expect(transitions).toEqual(['closed>open remote', 'open>closed remote']);
  });

  it('adopt ignores what it knows already and stale snapshots, so that a published change is not echoed back', () => {
    const { transitions, listener } = recorder();
    const breaker = new CircuitBreaker(settings, listener);
    tripped(breaker, 1_000);
    breaker.adopt(breaker.toJSON(), 1_010); // our own opening, read back
    const staleClose: CircuitSnapshot = { state: 'closed', openedAt: 500, consecutiveFailures: 0, outcomes: [] };
    breaker.adopt(staleClose, 1_020); // closed after an older opening than ours
    expect(breaker.state).toBe('open');
    breaker.admit(2_000);
    breaker.onSuccess(true, 2_000);
    breaker.adopt({ state: 'open', openedAt: 1_000 }, 2_010); // the opening we have since closed
    expect(breaker.state).toBe('closed');
    expect(transitions).toEqual(['closed>open', 'open>half_open', 'half_open>closed']);
  });

  it('adopt: a later remote opening moves our next probe later; one from a clock ahead of ours half-opens openMs after adoption', () => {
    const breaker = new CircuitBreaker(settings);
    tripped(breaker, 1_000);
    breaker.adopt({ state: 'open', openedAt: 1_500 }, 1_600);
    expect(breaker.waitMs(1_600)).toBe(900);
    const ahead = { state: 'open' as const, openedAt: 9_000 };
    breaker.adopt(ahead, 1_700);
    expect(breaker.waitMs(1_700)).toBe(1_000);
    breaker.adopt(ahead, 1_800); // read again: the same opening, no later probe
    expect(breaker.waitMs(1_800)).toBe(900);
    expect(breaker.toJSON().openedAt).toBe(9_000); // kept as stamped, to compare with the fleet's later snapshots
  });

  it('adopt while our probe is out: a remote probe\'s failure reopens us, and our late probe success does not close it', () => {
    const { transitions, listener } = recorder();
    const breaker = new CircuitBreaker(settings, listener);
    tripped(breaker, 0);
    expect(breaker.admit(1_000)).toEqual({ allowed: true, probe: true });
    breaker.adopt({ state: 'open', openedAt: 1_050 }, 1_060);
    breaker.onSuccess(true, 1_100);
    expect(breaker.state).toBe('open');
    expect(transitions).toEqual(['closed>open', 'open>half_open', 'half_open>open remote']);
  });

  it('listen adds listeners, told of returned probe slots too, until unsubscribed', () => {
    const heard: string[] = [];
    const breaker = new CircuitBreaker(settings);
    const stop = breaker.listen({ onTransition: (from, to) => heard.push(`${from}>${to}`), onProbeReturned: () => heard.push('probe returned') });
    tripped(breaker, 0);
    breaker.admit(1_000);
    breaker.onNeutral(true);
    stop();
    breaker.reset();
    expect(heard).toEqual(['closed>open', 'open>half_open', 'probe returned']);
  });
});
