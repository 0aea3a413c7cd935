import type { MigrationInterface, QueryRunner } from 'typeorm';

// PostgreSQL runs BEFORE INSERT triggers before it checks ON CONFLICT: a settled row inserted
// with ON CONFLICT (a settlement the store never confirmed, retried) must add its spend in an
// AFTER INSERT trigger, which runs only for a row that was really inserted. Held rows keep
// their check-and-reserve in the BEFORE trigger: they are never inserted with ON CONFLICT.
export const HELD_ONLY_BEFORE_INSERT = `CREATE OR REPLACE FUNCTION resilient_llm_reservation_insert() RETURNS trigger LANGUAGE plpgsql AS $$
   DECLARE
     window_id text;
   BEGIN
     IF NEW.state <> 'held' THEN
       RETURN NEW;
     END IF;
     FOR window_id IN SELECT value FROM json_array_elements_text(NEW.window_ids::json) ORDER BY value LOOP
       UPDATE resilient_llm_budget_window
          SET reserved_micro = reserved_micro + NEW.amount_micro,
              spent_micro = spent_micro + NEW.actual_micro,
              waste_micro = waste_micro + NEW.waste_micro
        WHERE id = window_id AND spent_micro + reserved_micro + NEW.amount_micro <= limit_micro;
       IF NOT FOUND THEN
         IF EXISTS (SELECT 1 FROM resilient_llm_budget_window WHERE id = window_id) THEN
           RAISE EXCEPTION 'resilient_llm:budget_exhausted:%', window_id;
         END IF;
         RAISE EXCEPTION 'resilient_llm:unknown_window:%', window_id;
       END IF;
     END LOOP;
     RETURN NEW;
   END $$`;

const SETTLED_AFTER_INSERT = [
  `CREATE FUNCTION resilient_llm_reservation_record() RETURNS trigger LANGUAGE plpgsql AS $$
   DECLARE
     window_id text;
   BEGIN
     FOR window_id IN SELECT value FROM json_array_elements_text(NEW.window_ids::json) ORDER BY value LOOP
       UPDATE resilient_llm_budget_window
          SET spent_micro = spent_micro + NEW.actual_micro, waste_micro = waste_micro + NEW.waste_micro
        WHERE id = window_id;
     END LOOP;
     RETURN NULL;
   END $$`,
  `CREATE TRIGGER resilient_llm_reservation_record AFTER INSERT ON resilient_llm_budget_reservation
   FOR EACH ROW WHEN (NEW.state <> 'held') EXECUTE FUNCTION resilient_llm_reservation_record()`,
];

// The function as the ledger migration created it, for `down`.
const BOTH_IN_BEFORE_INSERT = `CREATE OR REPLACE FUNCTION resilient_llm_reservation_insert() RETURNS trigger LANGUAGE plpgsql AS $$
   DECLARE
     window_id text;
   BEGIN
     FOR window_id IN SELECT value FROM json_array_elements_text(NEW.window_ids::json) ORDER BY value LOOP
       IF NEW.state = 'held' THEN
         UPDATE resilient_llm_budget_window
            SET reserved_micro = reserved_micro + NEW.amount_micro,
                spent_micro = spent_micro + NEW.actual_micro,
                waste_micro = waste_micro + NEW.waste_micro
          WHERE id = window_id AND spent_micro + reserved_micro + NEW.amount_micro <= limit_micro;
         IF NOT FOUND THEN
           IF EXISTS (SELECT 1 FROM resilient_llm_budget_window WHERE id = window_id) THEN
             RAISE EXCEPTION 'resilient_llm:budget_exhausted:%', window_id;
           END IF;
           RAISE EXCEPTION 'resilient_llm:unknown_window:%', window_id;
         END IF;
       ELSE
         UPDATE resilient_llm_budget_window
            SET spent_micro = spent_micro + NEW.actual_micro, waste_micro = waste_micro + NEW.waste_micro
          WHERE id = window_id;
       END IF;
     END LOOP;
     RETURN NEW;
   END $$`;

/**
 * Settled rows inserted with ON CONFLICT count once on PostgreSQL. SQLite needs nothing: its
 * ledger triggers already add a settled row's spend AFTER INSERT.
 */
export class CountSettledInsertsAfterInsert1764806400000 implements MigrationInterface {
  name = 'CountSettledInsertsAfterInsert1764806400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (queryRunner.connection.driver.options.type !== 'postgres') return;
    for (const statement of [HELD_ONLY_BEFORE_INSERT, ...SETTLED_AFTER_INSERT]) await queryRunner.query(statement);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (queryRunner.connection.driver.options.type !== 'postgres') return;
    await queryRunner.query('DROP TRIGGER resilient_llm_reservation_record ON resilient_llm_budget_reservation');
    await queryRunner.query('DROP FUNCTION resilient_llm_reservation_record()');
    await queryRunner.query(BOTH_IN_BEFORE_INSERT);
  }
}
