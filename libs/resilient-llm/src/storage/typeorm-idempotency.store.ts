import type { ClaimResult, IdempotencyClaim, IdempotencyStore, StoredResponse } from '../idempotency/idempotency-store.interface.js';
import type { ResilientLlmStorageHolder } from './storage-holder.js';
import { SqlStatements } from './sql-statements.js';
import { IDEMPOTENCY_RECORD_TABLE, columnList } from './store-tables.js';

interface RecordRow {
  fingerprint: string;
  state: string;
  owner: string;
  lease_expires_at: string | number;
  expires_at: string | number;
  status_code: number | null;
  response_headers: string | null;
  response_body: string | null;
  response_kind: 'value' | 'error' | null;
}

const TABLE = IDEMPOTENCY_RECORD_TABLE.name;
const CLAIM_COLUMNS = columnList(IDEMPOTENCY_RECORD_TABLE, 'id', 'scope', 'idempotency_key', 'fingerprint', 'state', 'owner', 'lease_expires_at', 'created_at', 'expires_at');
// The fields of RecordRow.
const RECORD_COLUMNS = columnList(
  IDEMPOTENCY_RECORD_TABLE,
  'fingerprint',
  'state',
  'owner',
  'lease_expires_at',
  'expires_at',
  'status_code',
  'response_headers',
  'response_body',
  'response_kind',
);
// Past its TTL, and not a request still running: a live executor's key is never deleted under it.
const EXPIRED_SQL = (param: string) => `expires_at <= ${param} AND (state = 'completed' OR lease_expires_at < ${param})`;

/** The lock: of N concurrent inserts of one key, exactly one inserts a row. */
async function insertClaim(sql: SqlStatements, claim: IdempotencyClaim): Promise<boolean> {
  const inserted = await sql.run(
    `INSERT INTO ${TABLE} (${CLAIM_COLUMNS})
     VALUES (${sql.params(9)}) ON CONFLICT (id) DO NOTHING`,
    [claim.id, claim.scope, claim.key, claim.fingerprint, 'in_progress', claim.owner, claim.leaseExpiresAt, claim.nowMs, claim.expiresAt],
  );
  return inserted.affected === 1;
}

async function readRecord(sql: SqlStatements, id: string): Promise<RecordRow | undefined> {
  const { records } = await sql.run<RecordRow>(
    `SELECT ${RECORD_COLUMNS}
       FROM ${TABLE} WHERE id = ${sql.param(1)}`,
    [id],
  );
  return records[0];
}

/** The test of EXPIRED_SQL, on a row already read. */
function hasExpired(row: RecordRow, nowMs: number): boolean {
  return Number(row.expires_at) <= nowMs && (row.state === 'completed' || Number(row.lease_expires_at) < nowMs);
}

function completedClaim(row: RecordRow): ClaimResult {
  return {
    outcome: 'completed',
    fingerprint: row.fingerprint,
    response: {
      statusCode: Number(row.status_code),
      headers: JSON.parse(row.response_headers ?? '{}'),
      body: row.response_body ?? 'null',
      kind: row.response_kind ?? 'value',
    },
  };
}

/** One conditional UPDATE on the dead executor's lease: true for the one claimant that won it. */
async function takeOver(sql: SqlStatements, claim: IdempotencyClaim, deadOwner: string): Promise<boolean> {
  const takeover = await sql.run(
    `UPDATE ${TABLE} SET owner = ${sql.param(1)}, lease_expires_at = ${sql.param(2)}
      WHERE id = ${sql.param(3)} AND state = 'in_progress' AND owner = ${sql.param(4)} AND lease_expires_at < ${sql.param(5)}`,
    [claim.owner, claim.leaseExpiresAt, claim.id, deadOwner, claim.nowMs],
  );
  return takeover.affected === 1;
}

/**
 * Idempotency records on SQLite or PostgreSQL. The lock is the primary key: of N concurrent
 * inserts of one key, exactly one succeeds (`ON CONFLICT DO NOTHING`); taking over a dead
 * executor's key is one conditional UPDATE on its lease.
 */
export class TypeOrmIdempotencyStore implements IdempotencyStore {
  private statements?: Promise<SqlStatements>;

  constructor(private readonly holder: ResilientLlmStorageHolder) {}

  private sql(): Promise<SqlStatements> {
    if (!this.statements) {
      const statements = this.holder.open().then((storage) => new SqlStatements(storage.dataSource));
      // A store that could not be opened is tried again on the next request.
      statements.catch(() => {
        if (this.statements === statements) this.statements = undefined;
      });
      this.statements = statements;
    }
    return this.statements;
  }

  async claim(claim: IdempotencyClaim): Promise<ClaimResult> {
    const sql = await this.sql();
    for (let round = 0; round < 3; round++) {
      if (await insertClaim(sql, claim)) return { outcome: 'acquired' };
      const existing = await readRecord(sql, claim.id);
      if (!existing) continue; // purged between the two statements: try the insert again
      if (hasExpired(existing, claim.nowMs)) {
        await sql.run(`DELETE FROM ${TABLE} WHERE id = ${sql.param(1)} AND ${EXPIRED_SQL(sql.param(2))}`, sql.postgres ? [claim.id, claim.nowMs] : [claim.id, claim.nowMs, claim.nowMs]);
        continue;
      }
      if (existing.state === 'completed') return completedClaim(existing);
      if (existing.fingerprint === claim.fingerprint && Number(existing.lease_expires_at) < claim.nowMs) {
        // The executor died (its lease ran out): whoever updates the lease first runs the request.
        if (await takeOver(sql, claim, existing.owner)) return { outcome: 'acquired' };
        continue;
      }
      return { outcome: 'in_progress', fingerprint: existing.fingerprint };
    }
    return { outcome: 'in_progress', fingerprint: claim.fingerprint };
  }

  async complete(id: string, owner: string, response: StoredResponse): Promise<boolean> {
    const sql = await this.sql();
    const { affected } = await sql.run(
      `UPDATE ${TABLE} SET state = 'completed', status_code = ${sql.param(1)}, response_headers = ${sql.param(2)},
              response_body = ${sql.param(3)}, response_kind = ${sql.param(4)}
        WHERE id = ${sql.param(5)} AND owner = ${sql.param(6)} AND state = 'in_progress'`,
      [response.statusCode, JSON.stringify(response.headers), response.body, response.kind, id, owner],
    );
    return affected === 1;
  }

  async release(id: string, owner: string): Promise<void> {
    const sql = await this.sql();
    await sql.run(`DELETE FROM ${TABLE} WHERE id = ${sql.param(1)} AND owner = ${sql.param(2)} AND state = 'in_progress'`, [id, owner]);
  }

  async purgeExpired(nowMs: number): Promise<number> {
    const sql = await this.sql();
    const { affected } = await sql.run(`DELETE FROM ${TABLE} WHERE ${EXPIRED_SQL(sql.param(1))}`, sql.postgres ? [nowMs] : [nowMs, nowMs]);
    return affected;
  }
}
