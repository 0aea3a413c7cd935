import { FaultPlan } from './fault-plan.js';
import { parseFault, parseFaultScript } from './fault-script.js';

describe('parseFaultScript', () => {
  it('accepts the documented example', () => {
    const script = parseFaultScript({
      seed: 7,
      sequence: ['503', '429:retry-after=2', '429:retry-after-ms=150', 'timeout', 'reset', 'insufficient_quota', '401', 'ok'],
      rates: { '503': 0.05, timeout: 0.05 },
      latencyMs: [20, 80],
    });
    expect(script.sequence.map((fault) => fault.kind)).toEqual(['503', '429', '429', 'timeout', 'reset', 'insufficient_quota', '401', 'ok']);
    expect(script.sequence[1]).toEqual({ kind: '429', retryAfterSeconds: 2 });
    expect(script.sequence[2]).toEqual({ kind: '429', retryAfterMs: 150 });
    expect(script.latencyMs).toEqual([20, 80]);
  });

  it('takes JSON text, as UPSTREAM_FAULTS does, and treats empty as no faults', () => {
    expect(parseFaultScript('{"sequence":["503"]}').sequence).toEqual([{ kind: '503' }]);
    expect(parseFaultScript('').sequence).toEqual([]);
    expect(parseFaultScript(undefined).rates).toEqual([]);
  });

  it.each([
    ['{"sequence":', /"\(json\)" is not valid JSON/],
    [{ sequence: ['418'] }, /"sequence\[0\]" has unknown fault "418"/],
    [{ sequence: ['429:retry-after=soon'] }, /"sequence\[0\]" needs a number >= 0, got "soon"/],
    [{ sequence: ['429:wait=2'] }, /unknown parameter "wait"/],
    [{ sequence: ['429:constructor=5'] }, /unknown parameter "constructor"/],
    [{ sequence: ['429:__proto__=1'] }, /unknown parameter "__proto__"/],
    [{ sequence: ['503:code=server_error'] }, /"sequence\[0\]" has "code", which only stream_error takes/],
    [{ sequence: ['stream_error:code='] }, /"sequence\[0\]" code must be letters/],
    [{ sequence: ['stream_error:code=a b'] }, /code must be letters/],
    [{ rates: { '503': 1.5 } }, /"rates\.503" must be a probability in \[0, 1\]/],
    [{ rates: { '503': 0.6, '500': 0.6 } }, /"rates" probabilities add up to 1\.2/],
    [{ latencyMs: [80, 20] }, /"latencyMs" must be/],
    [{ outages: [{ startMs: 10, endMs: 5 }] }, /"outages\[0\]" needs 0 <= startMs < endMs/],
    [{ seed: 'seven' }, /"seed" must be a whole number/],
    [{ sequnce: [] }, /"sequnce" is not a fault script field/],
    [[1, 2], /"\(root\)" must be a JSON object/],
  ])('rejects %j, naming the field', (input, message) => {
    expect(() => parseFaultScript(input)).toThrow(message);
  });
});

describe('FaultPlan', () => {
  it('consumes the sequence first, then draws from the rates', () => {
    const plan = new FaultPlan(parseFaultScript({ sequence: ['503', 'reset'], rates: { '500': 1 } }), () => 0);
    expect([1, 2, 3, 4].map(() => plan.nextFault().kind)).toEqual(['503', 'reset', '500', '500']);
  });

  it('is deterministic under a seed, and rates come out near their probabilities', () => {
    const draw = (seed: number) => {
      const plan = new FaultPlan(parseFaultScript({ seed, rates: { '503': 0.1, timeout: 0.05 } }), () => 0);
      return Array.from({ length: 10_000 }, () => plan.nextFault().kind);
    };
    const first = draw(7);
    expect(draw(7)).toEqual(first);
    expect(draw(8)).not.toEqual(first);
    const count = (kind: string) => first.filter((k) => k === kind).length;
    expect(count('503')).toBeGreaterThan(900);
    expect(count('503')).toBeLessThan(1_100);
    expect(count('timeout')).toBeGreaterThan(420);
    expect(count('timeout')).toBeLessThan(580);
  });

  it('answers with the outage fault inside an outage window, on its own clock', () => {
    let now = 1_000;
    const plan = new FaultPlan(parseFaultScript({ outages: [{ startMs: 100, endMs: 200, fault: '503:retry-after=1' }] }), () => now);
    expect(plan.nextFault().kind).toBe('ok');
    now += 150;
    expect(plan.nextFault()).toEqual({ kind: '503', retryAfterSeconds: 1 });
    now += 100;
    expect(plan.nextFault().kind).toBe('ok');
  });

  it('parses stream_error with an optional code, and its headers', () => {
    expect(parseFault('stream_error', 'f')).toEqual({ kind: 'stream_error' });
    expect(parseFault('stream_error:code=insufficient_quota', 'f')).toEqual({ kind: 'stream_error', code: 'insufficient_quota' });
    expect(parseFault('stream_error:code=server_error,x-should-retry=true', 'f')).toEqual({ kind: 'stream_error', code: 'server_error', shouldRetry: true });
    expect(parseFaultScript({ rates: { 'stream_error:code=rate_limit_exceeded': 0.1 } }).rates[0].fault).toEqual({ kind: 'stream_error', code: 'rate_limit_exceeded' });
  });

  it('parses x-should-retry and HTTP-date Retry-After', () => {
    expect(parseFault('503:x-should-retry=false,retry-after-date=3', 'f')).toEqual({ kind: '503', shouldRetry: false, retryAfterDateSeconds: 3 });
  });
});
