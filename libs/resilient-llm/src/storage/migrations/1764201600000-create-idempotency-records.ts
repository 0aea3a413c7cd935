import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Idempotency records: the same DDL on SQLite and PostgreSQL. */
export class CreateIdempotencyRecords1764201600000 implements MigrationInterface {
  name = 'CreateIdempotencyRecords1764201600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE resilient_llm_idempotency_record (
        id varchar(64) PRIMARY KEY NOT NULL,
        scope varchar(255) NOT NULL,
        idempotency_key varchar(255) NOT NULL,
        fingerprint varchar(64) NOT NULL,
        state varchar(16) NOT NULL,
        owner varchar(36) NOT NULL,
        lease_expires_at bigint NOT NULL,
        status_code integer NULL,
        response_headers text NULL,
        response_body text NULL,
        response_kind varchar(8) NULL,
        created_at bigint NOT NULL,
        expires_at bigint NOT NULL
      )`);
    await queryRunner.query('CREATE INDEX idx_resilient_llm_idempotency_expiry ON resilient_llm_idempotency_record (expires_at)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE resilient_llm_idempotency_record');
  }
}
