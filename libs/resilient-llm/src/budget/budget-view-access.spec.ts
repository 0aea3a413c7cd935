import { HttpException } from '@nestjs/common';
import { selectBudgetView } from './budget-view-access.js';

const refusal = (select: () => unknown) => {
  try {
    select();
  } catch (error) {
    return { status: (error as HttpException).getStatus(), body: (error as HttpException).getResponse() };
  }
  throw new Error('expected a refusal');
};

describe('selectBudgetView', () => {
  const ownScopeOnly = { showGlobal: false, anyScope: false };

  it("shows the caller its own scope, named or not, and the global one only when configured", () => {
    expect(selectBudgetView(ownScopeOnly, 'tenant-a', undefined)).toEqual({ scope: 'tenant-a', global: false });
    expect(selectBudgetView(ownScopeOnly, 'tenant-a', 'tenant-a')).toEqual({ scope: 'tenant-a', global: false });
    expect(selectBudgetView({ ...ownScopeOnly, showGlobal: true }, undefined, undefined)).toEqual({ scope: undefined, global: true });
  });

  it("refuses another tenant's scope with 403 unless anyScope is on", () => {
    expect(refusal(() => selectBudgetView(ownScopeOnly, 'tenant-b', 'tenant-a'))).toEqual({
      status: 403,
      body: { statusCode: 403, code: 'budget_scope_forbidden', message: expect.stringMatching(/scope is "tenant-b".*"tenant-a".*budgetView\.anyScope/) },
    });
    expect(refusal(() => selectBudgetView(ownScopeOnly, undefined, 'tenant-a'))).toMatchObject({ status: 403, body: { code: 'budget_scope_forbidden' } });
    expect(selectBudgetView({ showGlobal: false, anyScope: true }, 'tenant-b', 'tenant-a')).toEqual({ scope: 'tenant-a', global: false });
  });

  it('refuses with 403 a caller without a scope when there is no global view to show', () => {
    expect(refusal(() => selectBudgetView(ownScopeOnly, undefined, undefined))).toMatchObject({
      status: 403,
      body: { code: 'budget_scope_forbidden', message: expect.stringMatching(/no scope.*showGlobal/) },
    });
  });

  it.each([
    ['a key with a control character', '\u0001'],
    ['a repeated parameter', ['a', 'b']],
    ['a nested parameter', { x: 'a' }],
  ])('refuses %s with 400 invalid_scope, before any access decision', (_, requested) => {
    expect(refusal(() => selectBudgetView({ showGlobal: true, anyScope: true }, 'a', requested))).toMatchObject({ status: 400, body: { code: 'invalid_scope' } });
  });
});
