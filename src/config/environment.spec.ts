import { validateEnvironment } from './environment.js';

describe('validateEnvironment', () => {
  it('applies the documented defaults to an empty environment', () => {
    expect(validateEnvironment({})).toEqual({
      PORT: 3000,
      OPENAI_API_KEY: undefined,
      OPENAI_BASE_URL: undefined,
      LLM_MODEL: 'gpt-4o-mini',
      RESILIENT_LLM_DB: './data/resilient-llm.sqlite',
      BUDGET_DAILY_USD: undefined,
      BUDGET_MONTHLY_USD: undefined,
      UPSTREAM_PORT: 4010,
      UPSTREAM_FAULTS: undefined,
    });
  });

  it('treats an empty OPENAI_API_KEY as unset (the embedded upstream is used)', () => {
    expect(validateEnvironment({ OPENAI_API_KEY: '  ' }).OPENAI_API_KEY).toBeUndefined();
  });

  it('parses amounts and ports', () => {
    expect(validateEnvironment({ PORT: '8080', BUDGET_DAILY_USD: '12.5', BUDGET_MONTHLY_USD: '0' })).toMatchObject({
      PORT: 8080,
      BUDGET_DAILY_USD: 12.5,
      BUDGET_MONTHLY_USD: 0,
    });
  });

  it('lists every bad variable at once', () => {
    expect(() => validateEnvironment({ PORT: '70000', BUDGET_MONTHLY_USD: 'lots' })).toThrow(
      /Invalid environment:\n {2}PORT: .*\n {2}BUDGET_MONTHLY_USD: must be a dollar amount >= 0, got "lots"/,
    );
  });
});
