import { ResilientLlmConfigurationError } from '../errors/resilient-llm-configuration.error.js';
import { resolveOpenCircuitOptions } from './open-circuit-options.js';

describe('resolveOpenCircuitOptions', () => {
  it('fills in the defaults: wait, 1 000 waiting, a 1 000 ms ramp', () => {
    expect(resolveOpenCircuitOptions({})).toEqual({ whenOpen: 'wait', maxWaiting: 1_000, releaseRampMs: 1_000 });
    expect(resolveOpenCircuitOptions(undefined)).toEqual({ whenOpen: 'wait', maxWaiting: 1_000, releaseRampMs: 1_000 });
    expect(resolveOpenCircuitOptions({ whenOpen: 'fail', openCircuit: { maxWaiting: 0, releaseRampMs: 0 } })).toEqual({ whenOpen: 'fail', maxWaiting: 0, releaseRampMs: 0 });
  });

  it.each([
    [{ whenOpen: 'queue' }, 'stormControl.whenOpen', 'must be "wait" or "fail", got queue'],
    [{ openCircuit: { maxWaiting: -1 } }, 'stormControl.openCircuit.maxWaiting', 'must be a whole number >= 0 and <= 9007199254740991, got -1'],
    [{ openCircuit: { maxWaiting: 2.5 } }, 'stormControl.openCircuit.maxWaiting', 'got 2.5'],
    [{ openCircuit: { releaseRampMs: Number.NaN } }, 'stormControl.openCircuit.releaseRampMs', 'must be a whole number >= 0 and <= 2147483647, got NaN'],
    [{ openCircuit: { releaseRampMs: '500' } }, 'stormControl.openCircuit.releaseRampMs', 'got 500'],
    [{ openCircuit: 5 }, 'stormControl.openCircuit', 'must be an object, got 5'],
  ])('rejects %j naming the option, the range and the value', (raw, option, problem) => {
    const attempt = () => resolveOpenCircuitOptions(raw as never);
    expect(attempt).toThrow(ResilientLlmConfigurationError);
    expect(attempt).toThrow(expect.objectContaining({ option, problem: expect.stringContaining(problem) }));
  });

  it('names the options under the path it is given', () => {
    expect(() => resolveOpenCircuitOptions({ whenOpen: 'later' as never }, 'fleet.stormControl')).toThrow(expect.objectContaining({ option: 'fleet.stormControl.whenOpen' }));
  });
});
