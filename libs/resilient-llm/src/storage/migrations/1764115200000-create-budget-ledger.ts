import type { MigrationInterface, QueryRunner } from 'typeorm';

const TABLES = `
CREATE TABLE resilient_llm_budget_window (
  id varchar(320) PRIMARY KEY NOT NULL,
  scope varchar(255) NOT NULL,
  kind varchar(16) NOT NULL,
  period varchar(16) NOT NULL,
  starts_at bigint NOT NULL,
  ends_at bigint NOT NULL,
  limit_micro bigint NOT NULL,
  spent_micro bigint NOT NULL DEFAULT 0,
  reserved_micro bigint NOT NULL DEFAULT 0,
  waste_micro bigint NOT NULL DEFAULT 0,
  CONSTRAINT chk_resilient_llm_window_counters CHECK (spent_micro >= 0 AND reserved_micro >= 0 AND waste_micro >= 0)
);
CREATE TABLE resilient_llm_budget_reservation (
  id varchar(36) PRIMARY KEY NOT NULL,
  window_ids text NOT NULL,
  scope varchar(255) NOT NULL,
  model varchar(128) NOT NULL,
  amount_micro bigint NOT NULL,
  actual_micro bigint NOT NULL DEFAULT 0,
  waste_micro bigint NOT NULL DEFAULT 0,
  state varchar(16) NOT NULL,
  created_at bigint NOT NULL,
  lease_expires_at bigint NOT NULL,
  settled_at bigint NULL,
  CONSTRAINT chk_resilient_llm_reservation_amounts CHECK (amount_micro >= 0 AND actual_micro >= 0 AND waste_micro >= 0)
);
CREATE INDEX idx_resilient_llm_reservation_lease ON resilient_llm_budget_reservation (state, lease_expires_at);
`;

// A held row must fit in every window it names; the check and the increment are one statement.
const SQLITE_TRIGGERS = [
  `CREATE TRIGGER resilient_llm_reservation_admit BEFORE INSERT ON resilient_llm_budget_reservation
   WHEN NEW.state = 'held'
   BEGIN
     SELECT RAISE(ABORT, 'resilient_llm:unknown_window')
      WHERE (SELECT COUNT(*) FROM resilient_llm_budget_window WHERE id IN (SELECT value FROM json_each(NEW.window_ids)))
            <> json_array_length(NEW.window_ids);
     SELECT RAISE(ABORT, 'resilient_llm:budget_exhausted')
      WHERE EXISTS (SELECT 1 FROM resilient_llm_budget_window w
                     WHERE w.id IN (SELECT value FROM json_each(NEW.window_ids))
                       AND w.spent_micro + w.reserved_micro + NEW.amount_micro > w.limit_micro);
   END`,
  `CREATE TRIGGER resilient_llm_reservation_insert AFTER INSERT ON resilient_llm_budget_reservation
   BEGIN
     UPDATE resilient_llm_budget_window
        SET reserved_micro = reserved_micro + CASE WHEN NEW.state = 'held' THEN NEW.amount_micro ELSE 0 END,
            spent_micro = spent_micro + NEW.actual_micro,
            waste_micro = waste_micro + NEW.waste_micro
      WHERE id IN (SELECT value FROM json_each(NEW.window_ids));
   END`,
  `CREATE TRIGGER resilient_llm_reservation_settle AFTER UPDATE ON resilient_llm_budget_reservation
   BEGIN
     UPDATE resilient_llm_budget_window
        SET reserved_micro = reserved_micro - CASE WHEN OLD.state = 'held' AND NEW.state <> 'held' THEN OLD.amount_micro ELSE 0 END,
            spent_micro = spent_micro + NEW.actual_micro - OLD.actual_micro,
            waste_micro = waste_micro + NEW.waste_micro - OLD.waste_micro
      WHERE id IN (SELECT value FROM json_each(NEW.window_ids));
   END`,
];

// PostgreSQL: one conditional UPDATE per window, in id order (no deadlocks); READ COMMITTED
// re-checks each condition on the latest row version, and an exception undoes the statement.
const POSTGRES_TRIGGERS = [
  `CREATE FUNCTION resilient_llm_reservation_insert() RETURNS trigger LANGUAGE plpgsql AS $$
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
   END $$`,
  `CREATE TRIGGER resilient_llm_reservation_insert BEFORE INSERT ON resilient_llm_budget_reservation
   FOR EACH ROW EXECUTE FUNCTION resilient_llm_reservation_insert()`,
  `CREATE FUNCTION resilient_llm_reservation_settle() RETURNS trigger LANGUAGE plpgsql AS $$
   DECLARE
     window_id text;
   BEGIN
     FOR window_id IN SELECT value FROM json_array_elements_text(NEW.window_ids::json) ORDER BY value LOOP
       UPDATE resilient_llm_budget_window
          SET reserved_micro = reserved_micro - CASE WHEN OLD.state = 'held' AND NEW.state <> 'held' THEN OLD.amount_micro ELSE 0 END,
              spent_micro = spent_micro + NEW.actual_micro - OLD.actual_micro,
              waste_micro = waste_micro + NEW.waste_micro - OLD.waste_micro
        WHERE id = window_id;
     END LOOP;
     RETURN NEW;
   END $$`,
  `CREATE TRIGGER resilient_llm_reservation_settle AFTER UPDATE ON resilient_llm_budget_reservation
   FOR EACH ROW EXECUTE FUNCTION resilient_llm_reservation_settle()`,
];

const statements = (sql: string) => sql.split(';').map((statement) => statement.trim()).filter(Boolean);

/** The budget ledger: windows, reservations, and the triggers that keep their counters in step. */
export class CreateBudgetLedger1764115200000 implements MigrationInterface {
  name = 'CreateBudgetLedger1764115200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    for (const statement of [...statements(TABLES), ...(postgres ? POSTGRES_TRIGGERS : SQLITE_TRIGGERS)]) {
      await queryRunner.query(statement);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE resilient_llm_budget_reservation');
    await queryRunner.query('DROP TABLE resilient_llm_budget_window');
    if (queryRunner.connection.driver.options.type === 'postgres') {
      await queryRunner.query('DROP FUNCTION resilient_llm_reservation_insert()');
      await queryRunner.query('DROP FUNCTION resilient_llm_reservation_settle()');
    }
  }
}
