import { FaultUpstream } from '@app/fault-upstream';
import { type CanActivate, type ExecutionContext, ForbiddenException, UnauthorizedException } from '@nestjs/common';
import { type BudgetViewOptions, type ResilientLlmModuleOptions, ResilientLlmModule, isResilientLlmConfigurationError } from '@resilient-llm/nestjs';
import Database from 'better-sqlite3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOKENS_PER_CALL, budgetModule } from './apps/budget.app.js';
import { HTTP_ADAPTERS, type TestApp, createTestApp } from './support/test-app.js';

const LIMITS = { limits: { dailyUsd: 10 }, scopeLimits: { dailyUsd: 1 } };

type AuthenticatedRequest = { headers: Record<string, string | undefined>; user?: { tenant: string; operator: boolean } };

/** Stands for the app's authentication: a bearer token names the tenant, "op-" tokens are operators. */
const authenticate: CanActivate = {
  canActivate(context: ExecutionContext) {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (!token) throw new UnauthorizedException();
    request.user = { tenant: token.replace(/^op-/, ''), operator: token.startsWith('op-') };
    return true;
  },
};
const operatorsOnly: CanActivate = {
  canActivate(context: ExecutionContext) {
    if (!context.switchToHttp().getRequest<AuthenticatedRequest>().user?.operator) throw new ForbiddenException();
    return true;
  },
};

describe.each(HTTP_ADAPTERS)('the budget view is bound to the caller, on %s', (adapter) => {
  let upstream: FaultUpstream;
  let dir: string;
  const apps: TestApp[] = [];

  beforeEach(async () => {
    upstream = await FaultUpstream.start();
    dir = await mkdtemp(join(tmpdir(), 'resilient-llm-budget-view-'));
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.app.close();
    await upstream.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function boot(budgetView: boolean | BudgetViewOptions, options: ResilientLlmModuleOptions = {}) {
    const app = await createTestApp({
      imports: [
        budgetModule(
          { client: { apiKey: 't', baseURL: upstream.baseURL }, storage: { database: ':memory:' }, budget: LIMITS, scope: { header: 'x-tenant-id' }, ...options },
          { budgetView },
        ),
      ],
    }, undefined, adapter);
    apps.push(app);
    return app;
  }

  const spentOf = (status: { windows: Array<{ spentMicroUsd: number }> }) => status.windows.map((window) => window.spentMicroUsd);

  it("by default a tenant sees its own spend, never another tenant's, nor the global total", async () => {
    const { http } = await boot(true);
    await http().post('/ask').set('x-tenant-id', 'tenant-a').expect(200);
    await http().post('/ask').set('x-tenant-id', 'tenant-a').expect(200);
    await http().post('/ask').set('x-tenant-id', 'tenant-b').expect(200);

    const own = await http().get('/resilient-llm/budget').set('x-tenant-id', 'tenant-b').expect(200);
    expect(own.body).toEqual({ scope: expect.objectContaining({ scope: 'tenant-b' }) });
    expect(spentOf(own.body.scope)).toEqual([TOKENS_PER_CALL]);
    const ownByName = await http().get('/resilient-llm/budget?scope=tenant-b').set('x-tenant-id', 'tenant-b').expect(200);
    expect(ownByName.body).toEqual(own.body);

    const snooping = await http().get('/resilient-llm/budget?scope=tenant-a').set('x-tenant-id', 'tenant-b').expect(403);
    expect(snooping.body).toEqual({ statusCode: 403, code: 'budget_scope_forbidden', message: expect.stringMatching(/"tenant-b".*"tenant-a".*anyScope/) });
    expect(snooping.text).not.toContain(String(2 * TOKENS_PER_CALL));

    const anonymous = await http().get('/resilient-llm/budget?scope=tenant-a').expect(403);
    expect(anonymous.body).toMatchObject({ code: 'budget_scope_forbidden' });
    const nothingToSee = await http().get('/resilient-llm/budget').expect(403);
    expect(nothingToSee.body).toMatchObject({ code: 'budget_scope_forbidden', message: expect.stringMatching(/showGlobal/) });
  });

  it('showGlobal adds the global scope, to callers with or without a scope', async () => {
    const { http } = await boot({ showGlobal: true });
    await http().post('/ask').set('x-tenant-id', 'tenant-a').expect(200);
    await http().post('/ask').expect(200);
    const anonymous = await http().get('/resilient-llm/budget').expect(200);
    expect(anonymous.body).toEqual({ global: expect.objectContaining({ scope: 'global' }) });
    expect(spentOf(anonymous.body.global)).toEqual([2 * TOKENS_PER_CALL]);
    const tenant = await http().get('/resilient-llm/budget').set('x-tenant-id', 'tenant-a').expect(200);
    expect(Object.keys(tenant.body).sort()).toEqual(['global', 'scope']);
    expect(spentOf(tenant.body.scope)).toEqual([TOKENS_PER_CALL]);
    await http().get('/resilient-llm/budget?scope=tenant-b').set('x-tenant-id', 'tenant-a').expect(403);
  });

  it('the scope comes from the same extractor as @Guarded, after the view guards authenticated the caller', async () => {
    const extract = (context: ExecutionContext) => context.switchToHttp().getRequest<AuthenticatedRequest>().user?.tenant;
    const { http } = await boot({ guards: [authenticate] }, { scope: { extract } });
    await http().get('/resilient-llm/budget').expect(401);
    const own = await http().get('/resilient-llm/budget').set('authorization', 'Bearer tenant-a').expect(200);
    expect(own.body.scope).toMatchObject({ scope: 'tenant-a' });
    // A header naming another tenant changes nothing: the scope is the authenticated one.
    await http().get('/resilient-llm/budget?scope=tenant-b').set('authorization', 'Bearer tenant-a').set('x-tenant-id', 'tenant-b').expect(403);
  });

  it('anyScope lets the callers its guards admit read any scope', async () => {
    const extract = (context: ExecutionContext) => context.switchToHttp().getRequest<AuthenticatedRequest>().user?.tenant;
    const { http } = await boot({ anyScope: true, guards: [authenticate, operatorsOnly] }, { scope: { extract } });
    await http().post('/ask').set('x-tenant-id', 'ignored').expect(200);
    await http().get('/resilient-llm/budget?scope=tenant-a').set('authorization', 'Bearer tenant-b').expect(403);
    const operator = await http().get('/resilient-llm/budget?scope=tenant-a').set('authorization', 'Bearer op-ops').expect(200);
    expect(operator.body).toEqual({ scope: expect.objectContaining({ scope: 'tenant-a', windows: [expect.objectContaining({ spentMicroUsd: 0 })] }) });
  });

  it('anyScope without guards is refused at startup, naming the option', () => {
    let refusal: unknown;
    try {
      ResilientLlmModule.forRoot({ budgetView: { anyScope: true } });
    } catch (error) {
      refusal = error;
    }
    expect(isResilientLlmConfigurationError(refusal)).toBe(true);
    expect((refusal as Error).message).toMatch(/invalid option "budgetView\.anyScope": .*budgetView\.guards/);
    expect(() => ResilientLlmModule.forRootAsync({ budgetView: { anyScope: true }, useFactory: () => ({}) })).toThrow(/"budgetView\.anyScope"/);
  });

  it('answers 503 with a JSON body, not 500, while the budget store cannot be read; and reads again once it is back', async () => {
    const database = join(dir, 'view.sqlite');
    const { http } = await boot(true, { storage: { database } });
    await http().post('/ask').set('x-tenant-id', 'tenant-a').expect(200);
    // Another connection takes the ledger table away (a botched migration, a restore in progress).
    const admin = new Database(database);
    admin.exec('ALTER TABLE resilient_llm_budget_window RENAME TO budget_window_away');
    try {
      const refused = await http().get('/resilient-llm/budget').set('x-tenant-id', 'tenant-a').expect(503);
      expect(refused.body).toEqual({ statusCode: 503, code: 'budget_store_unavailable', message: expect.stringMatching(/budget store is unavailable/) });
      expect(refused.text).not.toMatch(/budget_window|sqlite|SQLITE/);
    } finally {
      admin.exec('ALTER TABLE budget_window_away RENAME TO resilient_llm_budget_window');
      admin.close();
    }
    const back = await http().get('/resilient-llm/budget').set('x-tenant-id', 'tenant-a').expect(200);
    expect(spentOf(back.body.scope)).toEqual([TOKENS_PER_CALL]);
  });
});
