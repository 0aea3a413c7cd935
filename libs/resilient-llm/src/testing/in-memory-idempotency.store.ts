import type { ClaimResult, IdempotencyClaim, IdempotencyStore, StoredResponse } from '../idempotency/idempotency-store.interface.js';

interface IdempotencyRecord {
  fingerprint: string;
  owner: string;
  leaseExpiresAt: number;
  expiresAt: number;
  /** JSON text, as a database keeps it: a replay never shares objects with what was stored. */
  response?: string;
}

/**
 * An `IdempotencyStore` in a Map, for unit tests of code that takes one: the same answers as
 * the SQLite and PostgreSQL stores (`test/idempotency-store-contract.e2e-spec.ts` runs one
 * suite against all three), with no database. One process only: it is no lock between replicas.
 */
export class InMemoryIdempotencyStore implements IdempotencyStore {
  private readonly records = new Map<string, IdempotencyRecord>();

  async claim(claim: IdempotencyClaim): Promise<ClaimResult> {
    const existing = this.records.get(claim.id);
    if (existing && isExpired(existing, claim.nowMs)) this.records.delete(claim.id);
    const record = this.records.get(claim.id);
    if (!record) {
      this.records.set(claim.id, { fingerprint: claim.fingerprint, owner: claim.owner, leaseExpiresAt: claim.leaseExpiresAt, expiresAt: claim.expiresAt });
      return { outcome: 'acquired' };
    }
    if (record.response !== undefined) return { outcome: 'completed', fingerprint: record.fingerprint, response: JSON.parse(record.response) as StoredResponse };
    // A dead executor's key (its lease is over) is taken over by a repeat of the same request.
    if (record.fingerprint === claim.fingerprint && record.leaseExpiresAt < claim.nowMs) {
      Object.assign(record, { owner: claim.owner, leaseExpiresAt: claim.leaseExpiresAt });
      return { outcome: 'acquired' };
    }
    return { outcome: 'in_progress', fingerprint: record.fingerprint };
  }

  async complete(id: string, owner: string, response: StoredResponse): Promise<boolean> {
    const record = this.records.get(id);
    if (!record || record.owner !== owner || record.response !== undefined) return false;
    record.response = JSON.stringify(response);
    return true;
  }

  async release(id: string, owner: string): Promise<void> {
    const record = this.records.get(id);
    if (record && record.owner === owner && record.response === undefined) this.records.delete(id);
  }

  async purgeExpired(nowMs: number): Promise<number> {
    let purged = 0;
    for (const [id, record] of this.records) {
      if (isExpired(record, nowMs) && this.records.delete(id)) purged++;
    }
    return purged;
  }
}

// Past its expiry, and either completed or no longer held by a live executor.
const isExpired = (record: IdempotencyRecord, nowMs: number): boolean =>
  record.expiresAt <= nowMs && (record.response !== undefined || record.leaseExpiresAt < nowMs);
