import { isResilientLlmConfigurationError } from '../../errors/resilient-llm-configuration.error.js';
import { resolvePacingOptions } from './pacing-options.validation.js';

describe('resolvePacingOptions', () => {
  it('is on by default, and off with false', () => {
    expect(resolvePacingOptions(undefined)).toEqual({ windowMs: 60_000, share: 0.95, maxWaiting: 1_000 });
    expect(resolvePacingOptions({})).toEqual({ windowMs: 60_000, share: 0.95, maxWaiting: 1_000 });
    expect(resolvePacingOptions(false)).toBeUndefined();
  });

  it('takes values at the edges of their ranges', () => {
    expect(resolvePacingOptions({ windowMs: 600, share: 1, maxWaiting: 0 })).toEqual({ windowMs: 600, share: 1, maxWaiting: 0 });
  });

  it.each([
    [{ windowMs: 0 }, 'stormControl.pacing.windowMs', 'must be a number > 0, got 0'],
    [{ windowMs: Number.POSITIVE_INFINITY }, 'stormControl.pacing.windowMs', 'must be a number > 0, got Infinity'],
    [{ share: 0 }, 'stormControl.pacing.share', 'must be a number > 0 and <= 1, got 0'],
    [{ share: 1.2 }, 'stormControl.pacing.share', 'must be a number > 0 and <= 1, got 1.2'],
    [{ share: '0.9' }, 'stormControl.pacing.share', 'must be a number > 0 and <= 1, got 0.9'],
    [{ maxWaiting: 2.5 }, 'stormControl.pacing.maxWaiting', 'must be a whole number >= 0, got 2.5'],
    [{ maxWaiting: -1 }, 'stormControl.pacing.maxWaiting', 'must be a whole number >= 0, got -1'],
    [true, 'stormControl.pacing', 'must be false or an object, got true'],
    [null, 'stormControl.pacing', 'must be false or an object, got null'],
  ])('refuses %j, naming the option and the range', (raw, option, problem) => {
    let thrown: unknown;
    try {
      resolvePacingOptions(raw as never);
    } catch (error) {
      thrown = error;
    }
    expect(isResilientLlmConfigurationError(thrown)).toBe(true);
    expect(thrown).toMatchObject({ option, problem });
  });

  it('names the option under the path it was given', () => {
    expect(() => resolvePacingOptions({ share: 2 }, 'stormControl.perModel.gpt-4.1.pacing')).toThrow('"stormControl.perModel.gpt-4.1.pacing.share"');
  });
});
