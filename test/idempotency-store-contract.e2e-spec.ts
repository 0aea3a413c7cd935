import { InMemoryIdempotencyStore } from '@resilient-llm/nestjs/testing';
import type { IdempotencyClaim, IdempotencyStore, StoredResponse } from '../libs/resilient-llm/src/idempotency/idempotency-store.interface.js';
import { ResilientLlmStorageHolder } from '../libs/resilient-llm/src/storage/storage-holder.js';
import { resolveStorageOptions } from '../libs/resilient-llm/src/storage/storage-options.validation.js';
import { TypeOrmIdempotencyStore } from '../libs/resilient-llm/src/storage/typeorm-idempotency.store.js';
import { createTestSchema, skipWithoutPostgres } from './support/postgres.js';

interface StoreUnderTest {
  store: IdempotencyStore;
  close(): Promise<void>;
}

async function typeOrmStore(database: string, dropSchema?: () => Promise<void>): Promise<StoreUnderTest> {
  const holder = new ResilientLlmStorageHolder({ storage: resolveStorageOptions({ database }) });
  await holder.open();
  return {
    store: new TypeOrmIdempotencyStore(holder),
    close: async () => {
      await holder.onApplicationShutdown();
      await dropSchema?.();
    },
  };
}

const STORES: Array<[string, () => Promise<StoreUnderTest | undefined>]> = [
  ['the in-memory fake', async () => ({ store: new InMemoryIdempotencyStore(), close: async () => undefined })],
  ['SQLite', () => typeOrmStore(':memory:')],
  [
    'PostgreSQL',
    async () => {
      if (await skipWithoutPostgres()) return undefined;
      const schema = await createTestSchema();
      return typeOrmStore(schema.url, schema.drop);
    },
  ],
];

const NOW = 1_000_000;
const RESPONSE: StoredResponse = { statusCode: 201, headers: { location: '/orders/7' }, body: '{"id":7}', kind: 'value' };
let serial = 0;

/** A fresh key each time, so that the cases of one store never see each other's records. */
function claimOf(overrides: Partial<IdempotencyClaim> = {}): IdempotencyClaim {
  serial++;
  return { id: `tenant|key-${serial}`, scope: 'tenant', key: `key-${serial}`, fingerprint: 'f1', owner: 'a', nowMs: NOW, leaseExpiresAt: NOW + 60_000, expiresAt: NOW + 86_400_000, ...overrides };
}

describe.each(STORES)('the idempotency store contract: %s', (_, open) => {
  let subject: StoreUnderTest | undefined;

  beforeAll(async () => {
    subject = await open();
  });
  afterAll(async () => {
    await subject?.close();
  });

  const store = (context: { skip: () => void }): IdempotencyStore => {
    if (!subject) context.skip();
    return subject!.store;
  };

  it('gives a key to its first claimant and tells the next one it is in progress', async (context) => {
    const claim = claimOf();
    expect(await store(context).claim(claim)).toEqual({ outcome: 'acquired' });
    expect(await store(context).claim({ ...claim, owner: 'b', fingerprint: 'f2' })).toEqual({ outcome: 'in_progress', fingerprint: 'f1' });
  });

  it('gives one key to exactly one of many concurrent claimants', async (context) => {
    const claim = claimOf();
    const results = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((owner) => store(context).claim({ ...claim, owner })));
    expect(results.filter((result) => result.outcome === 'acquired')).toHaveLength(1);
  });

  it('stores the response of the owner only, and replays it', async (context) => {
    const claim = claimOf();
    await store(context).claim(claim);
    expect(await store(context).complete(claim.id, 'b', RESPONSE)).toBe(false);
    expect(await store(context).complete(claim.id, 'a', RESPONSE)).toBe(true);
    expect(await store(context).complete(claim.id, 'a', RESPONSE)).toBe(false);
    expect(await store(context).claim({ ...claim, owner: 'b' })).toEqual({ outcome: 'completed', fingerprint: 'f1', response: RESPONSE });
  });

  it('frees a key its owner releases, and only then', async (context) => {
    const claim = claimOf();
    await store(context).claim(claim);
    await store(context).release(claim.id, 'b');
    expect((await store(context).claim({ ...claim, owner: 'b' })).outcome).toBe('in_progress');
    await store(context).release(claim.id, 'a');
    expect(await store(context).claim({ ...claim, owner: 'b' })).toEqual({ outcome: 'acquired' });
  });

  it('hands a dead executor`s key to a repeat of the same request, never to another payload', async (context) => {
    const claim = claimOf({ leaseExpiresAt: NOW + 10 });
    await store(context).claim(claim);
    const later = { ...claim, nowMs: NOW + 11, leaseExpiresAt: NOW + 60_000 };
    expect(await store(context).claim({ ...later, owner: 'c', fingerprint: 'other' })).toEqual({ outcome: 'in_progress', fingerprint: 'f1' });
    expect(await store(context).claim({ ...later, owner: 'b' })).toEqual({ outcome: 'acquired' });
    expect(await store(context).complete(claim.id, 'a', RESPONSE)).toBe(false);
    expect(await store(context).complete(claim.id, 'b', RESPONSE)).toBe(true);
  });

  it('forgets expired records: a repeat starts afresh, and a purge deletes them', async (context) => {
    const completed = claimOf({ expiresAt: NOW + 100 });
    await store(context).claim(completed);
    await store(context).complete(completed.id, 'a', RESPONSE);
    expect(await store(context).claim({ ...completed, owner: 'b', nowMs: NOW + 100, leaseExpiresAt: NOW + 60_100 })).toEqual({ outcome: 'acquired' });

    const stale = claimOf({ expiresAt: NOW + 100, leaseExpiresAt: NOW + 50 });
    const live = claimOf({ expiresAt: NOW + 100, leaseExpiresAt: NOW + 500 });
    await store(context).claim(stale);
    await store(context).claim(live);
    // Expired and not held: gone. Still leased: kept, its executor may yet answer.
    expect(await store(context).purgeExpired(NOW + 200)).toBe(1);
    expect(await store(context).claim({ ...stale, owner: 'b', fingerprint: 'f2', nowMs: NOW + 200, expiresAt: NOW + 86_400_000 })).toEqual({ outcome: 'acquired' });
    expect(await store(context).claim({ ...live, owner: 'b', nowMs: NOW + 200 })).toEqual({ outcome: 'in_progress', fingerprint: 'f1' });
  });
});
