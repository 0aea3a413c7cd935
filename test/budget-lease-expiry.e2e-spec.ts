import { FaultUpstream } from '@app/fault-upstream';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResilientLlmStorage } from '../libs/resilient-llm/src/storage/resilient-llm-storage.js';
import { resolveStorageOptions } from '../libs/resilient-llm/src/storage/storage-options.validation.js';
import { TOKENS_PER_CALL } from './apps/budget.app.js';
import { type ReplicaBundle, type ReplicaProcess, buildReplica, startReplica, stopReplica } from './support/replica-processes.js';

const REPLICAS = 4;
const VICTIM = 2;
const CALLS = 5;

// One SQLite file shared by four processes. The expiry statement itself is checked on PostgreSQL
// too, by the store contract (test/budget-store-leases.e2e-spec.ts); the processes add nothing store-specific.
const STORES = [
  {
    name: 'one SQLite file',
    open: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'resilient-llm-kill-'));
      return { database: join(dir, 'ledger.sqlite'), drop: () => rm(dir, { recursive: true, force: true }) };
    },
  },
];

interface WindowRow {
  id: string;
  scope: string;
  spent_micro: string;
  reserved_micro: string;
  waste_micro: string;
}

const billedBy = (upstream: FaultUpstream) => upstream.stats().servedTokens.input + upstream.stats().servedTokens.output + upstream.stats().abandonedPromptTokens;

/**
 * Four replicas as OS processes on one store, each calling a provider of its own; one is killed
 * (SIGKILL) while its calls' requests are with its provider, which answers them anyway and bills
 * them. Once the dead replica's lease ends, a surviving replica collects it: what it held for its
 * requests in flight is charged (spent, as waste), never given back to be spent twice.
 */
describe.each(STORES)('kill -9 of one of 4 replicas mid-call, on $name', ({ name, open }) => {
  const upstreams: FaultUpstream[] = [];
  const replicas: ReplicaProcess[] = [];
  let ledger: { database: string; drop: () => Promise<unknown> } | undefined;
  let storage: ResilientLlmStorage | undefined;
  let bundle: ReplicaBundle;

  beforeAll(async () => {
    bundle = await buildReplica();
  });
  afterAll(() => bundle.remove());
  afterEach(async () => {
    for (const replica of replicas.splice(0)) await stopReplica(replica);
    for (const upstream of upstreams.splice(0)) await upstream.stop();
    await storage?.close();
    await ledger?.drop();
  });

  it('after the lease, the ledger has charged at least what the provider billed for the dead replica, and counted nothing twice', async () => {
    ledger = await open();
    for (let index = 0; index < REPLICAS; index++) {
      // The victim's provider takes 1.5 s (real time) to answer: it dies with its requests there.
      upstreams.push(await FaultUpstream.start({ faults: { latencyMs: index === VICTIM ? [1_500, 1_500] : [20, 20] } }));
    }
    replicas.push(...(await Promise.all(upstreams.map((upstream) => startReplica(bundle, { UPSTREAM_URL: upstream.baseURL, LEDGER: ledger!.database })))));
    storage = await ResilientLlmStorage.open(resolveStorageOptions({ database: ledger.database }));
    const windows = async () => (await storage!.dataSource.query('SELECT id, scope, spent_micro, reserved_micro, waste_micro FROM resilient_llm_budget_window')) as WindowRow[];
    const held = async () => Number((await storage!.dataSource.query(`SELECT COUNT(*) AS held FROM resilient_llm_budget_reservation WHERE state = 'held'`))[0].held);

    const answers = replicas.map((replica, index) =>
      Promise.all(
        Array.from({ length: CALLS }, () =>
          fetch(`${replica.url}/ask`, { method: 'POST', headers: { 'x-tenant-id': `replica-${index}` } }).then(
            (response) => String(response.status),
            () => 'lost',
          ),
        ),
      ),
    );
    await vi.waitFor(() => expect(upstreams[VICTIM].stats().inFlight).toBe(CALLS), { timeout: 30_000, interval: 10 });
    replicas[VICTIM].child.kill('SIGKILL');
    await replicas[VICTIM].exited;

    const statuses = await Promise.all(answers);
    statuses.forEach((outcomes, index) => expect(outcomes).toEqual(Array<string>(CALLS).fill(index === VICTIM ? 'lost' : '200')));
    // Until its lease ends, the dead replica's money stays held: nobody else can spend it.
    expect(await held()).toBe(CALLS);
    // The provider answers the dead replica's requests into closed sockets, and bills them.
    await vi.waitFor(() => expect(upstreams[VICTIM].stats()).toMatchObject({ inFlight: 0, byOutcome: { '200': CALLS } }), { timeout: 10_000 });
    // The lease is 5 s; a survivor collects ended leases every 1.25 s.
    await vi.waitFor(async () => expect(await held()).toBe(0), { timeout: 60_000, interval: 250 });

    const rows = await windows();
    const scopeOf = (index: number) => rows.find((row) => row.scope === `key:replica-${index}`)!;
    const victim = scopeOf(VICTIM);
    const billed = upstreams.map(billedBy);
    console.info(
      `${name}: the provider billed the dead replica ${billed[VICTIM]}; its lease charged spent ${victim.spent_micro}, waste ${victim.waste_micro}; ` +
        `all replicas: billed ${billed.reduce((a, b) => a + b)}, ledger ${rows.find((row) => row.scope === 'global')!.spent_micro}`,
    );
    expect(billed[VICTIM]).toBe(CALLS * TOKENS_PER_CALL);
    expect(Number(victim.spent_micro)).toBeGreaterThanOrEqual(billed[VICTIM]);
    expect(Number(victim.waste_micro)).toBe(Number(victim.spent_micro));
    // The survivors settled exactly what they were billed; across all, nothing is counted twice or left held.
    for (let index = 0; index < REPLICAS; index++) if (index !== VICTIM) expect(Number(scopeOf(index).spent_micro)).toBe(billed[index]);
    const global = rows.find((row) => row.scope === 'global')!;
    expect({ spent: Number(global.spent_micro), reserved: Number(global.reserved_micro) }).toEqual({ spent: billed.reduce((a, b) => a + b), reserved: 0 });
  }, 180_000);
});
