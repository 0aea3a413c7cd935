import { resolveBudgetViewOptions } from './budget-view-options.validation.js';

describe('resolveBudgetViewOptions', () => {
  const operatorsOnly = { canActivate: () => true };

  it('defaults to the caller-bound view at /resilient-llm/budget', () => {
    expect(resolveBudgetViewOptions({})).toEqual({ path: 'resilient-llm/budget', guards: [], showGlobal: false, anyScope: false });
    expect(resolveBudgetViewOptions({ showGlobal: true, anyScope: true, guards: [operatorsOnly], path: 'ops/budget' })).toEqual({
      path: 'ops/budget',
      guards: [operatorsOnly],
      showGlobal: true,
      anyScope: true,
    });
  });

  it.each([
    ['anyScope without guards', { anyScope: true }, /"budgetView\.anyScope": lets a caller read the spend of every scope .*give budgetView\.guards/],
    ['anyScope with an empty guard list', { anyScope: true, guards: [] }, /"budgetView\.anyScope"/],
    ['a showGlobal that is not a boolean', { showGlobal: 'yes' }, /"budgetView\.showGlobal": must be true or false, got yes/],
    ['a guard that is not one', { guards: [{}] }, /"budgetView\.guards": must be an array of guards/],
    ['an empty path', { path: ' ' }, /"budgetView\.path"/],
    ['something else than an object', 'open', /"budgetView": must be true, false or \{/],
  ])('refuses %s at startup, naming the option', (_, options, message) => {
    expect(() => resolveBudgetViewOptions(options as never)).toThrow(message);
  });
});
