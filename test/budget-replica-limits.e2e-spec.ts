import { FaultUpstream } from '@app/fault-upstream';
import { Logger } from '@nestjs/common';
import { BudgetGuard } from '@resilient-llm/nestjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FLAT_PRICING, budgetModule } from './apps/budget.app.js';
import { createTestSchema, skipWithoutPostgres } from './support/postgres.js';
import { type TestApp, createTestApp } from './support/test-app.js';

// $50 per million tokens: a call (32 tokens at worst, and exactly) costs 1,600 micro-dollars.
const CALL_MICRO = 1_600;
const PRICING = { ...FLAT_PRICING, dear: { inputUsdPerMTok: 50, outputUsdPerMTok: 50, encoding: 'o200k_base' as const } };

const STORES = [
  {
    name: 'one PostgreSQL schema',
    open: async () => {
      const schema = await createTestSchema();
      return { database: schema.url, drop: schema.drop };
    },
  },
  {
    name: 'one SQLite file',
    open: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'resilient-llm-replicas-'));
      return { database: join(dir, 'ledger.sqlite'), drop: () => rm(dir, { recursive: true, force: true }) };
    },
  },
];

/**
 * Two replicas on one store, configured with different limits ($0.01 and $1): each enforces its
 * own in the atomic statement, whichever wrote the window's stored limit last, and the one whose
 * configuration differs from the stored limit says so, once.
 */
describe.each(STORES)('replicas with different limits on $name', ({ name, open }) => {
  let upstream: FaultUpstream;
  let store: { database: string; drop: () => Promise<unknown> } | undefined;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    upstream = await FaultUpstream.start();
  });
  afterAll(() => upstream.stop());
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.app.close();
    await store?.drop();
    vi.restoreAllMocks();
  });

  const replica = async (dailyUsd: number) => {
    const app = await createTestApp({
      imports: [budgetModule({ client: { apiKey: 't', baseURL: upstream.baseURL }, defaultModel: 'dear', pricing: PRICING, budget: { limits: { dailyUsd } }, storage: { database: store!.database } })],
    });
    apps.push(app);
    return app;
  };

  it('30 concurrent calls to the $0.01 replica cannot all pass after the $1 replica wrote its limit; the $1 replica keeps its own', async (context) => {
    if (name.includes('PostgreSQL') && (await skipWithoutPostgres())) return context.skip();
    const warnings = vi.spyOn(Logger.prototype, 'warn');
    store = await open();
    const small = await replica(0.01);
    const large = await replica(1);
    await small.http().post('/ask').expect(200);
    // The $1 replica writes its limit into the window last: the stored limit is now $1.
    await large.http().post('/ask').expect(200);
    expect((await large.app.get(BudgetGuard).status()).windows[0]).toMatchObject({ limitUsd: 1 });

    const statuses = (await Promise.all(Array.from({ length: 30 }, () => small.http().post('/ask')))).map((response) => response.status);
    // $0.01 holds 6 calls of $0.0016; 2 are spent: 4 more pass, whatever the stored limit says.
    expect(statuses.filter((status) => status === 200)).toHaveLength(4);
    expect(statuses.filter((status) => status === 429)).toHaveLength(26);
    const refusal = (await small.http().post('/ask').expect(429)).body;
    expect(refusal).toMatchObject({ scope: 'global', window: 'daily', limitUsd: 0.01, spentUsd: (6 * CALL_MICRO) / 1_000_000 });

    // The $1 replica still admits against its own limit.
    for (let call = 0; call < 3; call++) await large.http().post('/ask').expect(200);
    const [window] = (await large.app.get(BudgetGuard).status()).windows;
    expect(window).toMatchObject({ spentMicroUsd: 9 * CALL_MICRO, reservedMicroUsd: 0, limitMicroUsd: 1_000_000 });

    const drift = warnings.mock.calls.map(([message]) => String(message)).filter((message) => message.includes('the store shows a limit of'));
    expect(drift).toEqual([expect.stringMatching(/global\|daily\|.*shows a limit of \$1, this replica is configured with \$0\.01/)]);
  });
});
