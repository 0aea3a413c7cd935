import { FaultUpstream } from '@app/fault-upstream';
import { BudgetGuard, RESILIENT_LLM_BUDGET_STORE, type BudgetStore } from '@resilient-llm/nestjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResilientLlmStorage } from '../libs/resilient-llm/src/storage/resilient-llm-storage.js';
import { ResilientLlmStorageHolder } from '../libs/resilient-llm/src/storage/storage-holder.js';
import { resolveStorageOptions } from '../libs/resilient-llm/src/storage/storage-options.validation.js';
import { type ReplicaBundle, type ReplicaProcess, buildReplica, startReplica, stopReplica, stopReplicaGracefully } from './support/replica-processes.js';
import { TOKENS_PER_CALL, budgetModule } from './apps/budget.app.js';
import { createTestSchema, skipWithoutPostgres } from './support/postgres.js';
import { type TestApp, createTestApp } from './support/test-app.js';

const skipPostgres = await skipWithoutPostgres();
const CONCURRENT = 200;
const FITS = 37;
// The limit holds exactly FITS calls of 32 micro-dollars each.
const dailyUsd = (FITS * TOKENS_PER_CALL) / 1_000_000;

async function fire(apps: TestApp[]) {
  const responses = await Promise.all(Array.from({ length: CONCURRENT }, (_, index) => apps[index % apps.length].http().post('/ask')));
  const byStatus = responses.reduce<Record<number, number>>((counts, response) => ({ ...counts, [response.status]: (counts[response.status] ?? 0) + 1 }), {});
  return { responses, byStatus };
}

async function assertExactlyFits(apps: TestApp[], upstream: FaultUpstream, escrow: boolean) {
  const { responses, byStatus } = await fire(apps);
  expect(byStatus).toEqual({ 200: FITS, 429: CONCURRENT - FITS });
  const refused = responses.find((response) => response.status === 429)!;
  expect(refused.body).toMatchObject({ code: 'budget_exhausted', scope: 'global', window: 'daily', limitUsd: dailyUsd });
  expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  // No upstream call for a refused request.
  expect(upstream.stats().totalRequests).toBe(FITS);

  // Slices hold their unused money until they are settled (every second, or now).
  if (escrow) await Promise.all(apps.map((app) => app.app.get(BudgetGuard).returnSlices()));
  const store = apps[0].app.get<BudgetStore>(RESILIENT_LLM_BUDGET_STORE);
  const status = await apps[0].app.get(BudgetGuard).status();
  const window = status.windows[0];
  const [persisted] = await store.readWindows([`global|daily|${window.period}`]);
  expect(persisted).toMatchObject({ spentMicro: FITS * TOKENS_PER_CALL, reservedMicro: 0, limitMicro: FITS * TOKENS_PER_CALL });
  expect(persisted.spentMicro).toBeLessThanOrEqual(persisted.limitMicro);
  expect(status.state).toBe('exhausted');
  if (!escrow) return;
  // Slices served the calls: fewer ledger rows than calls that ran.
  const dataSource = (await apps[0].app.get(ResilientLlmStorageHolder).open()).dataSource;
  const [{ rows }] = await dataSource.query('SELECT COUNT(*) AS rows FROM resilient_llm_budget_reservation');
  expect(Number(rows)).toBeLessThan(FITS);
}

describe.skipIf(skipPostgres).each([false, true])(`${CONCURRENT} concurrent requests over 4 replica processes on one PostgreSQL, budget.escrow %s`, (escrow) => {
  let bundle: ReplicaBundle;
  beforeAll(async () => {
    bundle = await buildReplica();
  });
  afterAll(() => bundle.remove());

  it('exactly the ones that fit succeed, the rest get 429, overshoot 0', async () => {
    const upstream = await FaultUpstream.start({ faults: { latencyMs: 5 } });
    const schema = await createTestSchema();
    const replicas: ReplicaProcess[] = [];
    try {
      const env = { UPSTREAM_URL: upstream.baseURL, LEDGER: schema.url, DAILY_USD: String(dailyUsd), ESCROW: escrow ? '1' : '0' };
      replicas.push(...(await Promise.all(Array.from({ length: 4 }, () => startReplica(bundle, env)))));
      const statuses = await Promise.all(Array.from({ length: CONCURRENT }, (_, index) => fetch(`${replicas[index % 4].url}/ask`, { method: 'POST' }).then((response) => response.status)));
      const byStatus = statuses.reduce<Record<number, number>>((counts, status) => ({ ...counts, [status]: (counts[status] ?? 0) + 1 }), {});
      expect(byStatus).toEqual({ 200: FITS, 429: CONCURRENT - FITS });
      expect(upstream.stats().totalRequests).toBe(FITS);
      // Stopped as a deployment stops them: their slices are settled on the way out.
      for (const replica of replicas.splice(0)) await stopReplicaGracefully(replica);
      const storage = await ResilientLlmStorage.open(resolveStorageOptions({ database: schema.url }));
      const [window] = (await storage.dataSource.query(`SELECT spent_micro, reserved_micro, limit_micro FROM resilient_llm_budget_window WHERE scope = 'global' AND kind = 'daily'`)) as Array<Record<string, string>>;
      await storage.close();
      expect({ spent: Number(window.spent_micro), reserved: Number(window.reserved_micro), limit: Number(window.limit_micro) }).toEqual({ spent: FITS * TOKENS_PER_CALL, reserved: 0, limit: FITS * TOKENS_PER_CALL });
    } finally {
      for (const replica of replicas) await stopReplica(replica);
      await upstream.stop();
      await schema.drop();
    }
  }, 120_000);
});

describe.each([false, true])(`${CONCURRENT} concurrent guarded requests against a limit that fits ${FITS}, budget.escrow %s`, (escrow) => {
  let upstream: FaultUpstream;
  beforeEach(async () => {
    // A little latency, so that the requests are in flight together.
    upstream = await FaultUpstream.start({ faults: { latencyMs: 5 } });
  });
  afterEach(() => upstream.stop());

  it('SQLite file: exactly the ones that fit succeed, the rest get 429, overshoot 0', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'resilient-llm-budget-'));
    const app = await createTestApp({
      imports: [budgetModule({ client: { apiKey: 't', baseURL: upstream.baseURL }, budget: { limits: { dailyUsd }, escrow }, storage: { database: join(dir, 'budget.sqlite') } })],
    });
    try {
      await assertExactlyFits([app], upstream, escrow);
    } finally {
      await app.app.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe.skipIf(skipPostgres)('PostgreSQL', () => {
    it('4 app instances, each with its own DataSource, share one budget: overshoot 0', async () => {
      const schema = await createTestSchema();
      const apps: TestApp[] = [];
      try {
        for (let replica = 0; replica < 4; replica++) {
          apps.push(
            await createTestApp({
              imports: [budgetModule({ client: { apiKey: 't', baseURL: upstream.baseURL }, budget: { limits: { dailyUsd }, escrow }, storage: { database: schema.url } })],
            }),
          );
        }
        await assertExactlyFits(apps, upstream, escrow);
      } finally {
        for (const app of apps) await app.app.close();
        await schema.drop();
      }
    });
  });
});
