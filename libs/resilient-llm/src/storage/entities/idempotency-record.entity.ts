import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintTransformer } from './bigint.transformer.js';

export type IdempotencyState = 'in_progress' | 'completed';

/**
 * One idempotency key of one caller scope. Inserting it is the lock (the primary key decides
 * the winner); the winner stores the response on it; its lease lets another request take over
 * a key whose executor died.
 */
@Entity({ name: 'resilient_llm_idempotency_record' })
@Index('idx_resilient_llm_idempotency_expiry', ['expiresAt'])
export class IdempotencyRecordEntity {
  /** sha256 of scope and key. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id: string;

  @Column({ type: 'varchar', length: 255 })
  scope: string;

  @Column({ name: 'idempotency_key', type: 'varchar', length: 255 })
  idempotencyKey: string;

  /** sha256 of method, path, scope and canonical body. */
  @Column({ type: 'varchar', length: 64 })
  fingerprint: string;

  @Column({ type: 'varchar', length: 16 })
  state: IdempotencyState;

  /** Which execution holds the key; only it may complete or release it. */
  @Column({ type: 'varchar', length: 36 })
  owner: string;

  @Column({ name: 'lease_expires_at', type: 'bigint', transformer: bigintTransformer })
  leaseExpiresAt: number;

  @Column({ name: 'status_code', type: 'integer', nullable: true })
  statusCode: number | null;

  /** JSON object of the stored response headers. */
  @Column({ name: 'response_headers', type: 'text', nullable: true })
  responseHeaders: string | null;

  /** JSON text of the response body (what the handler returned, or the error's body). */
  @Column({ name: 'response_body', type: 'text', nullable: true })
  responseBody: string | null;

  /** `value` (the handler returned it) or `error` (an HttpException carried it). */
  @Column({ name: 'response_kind', type: 'varchar', length: 8, nullable: true })
  responseKind: 'value' | 'error' | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintTransformer })
  createdAt: number;

  @Column({ name: 'expires_at', type: 'bigint', transformer: bigintTransformer })
  expiresAt: number;
}
