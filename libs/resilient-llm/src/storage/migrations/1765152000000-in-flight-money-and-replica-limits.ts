import type { MigrationInterface, QueryRunner } from 'typeorm';
import { HELD_ONLY_BEFORE_INSERT } from './1764806400000-count-settled-inserts-after-insert.js';

const RESERVATIONS = 'resilient_llm_budget_reservation';

// `in_flight_micro`: the part of a held row that covers requests already sent (an expired lease
// charges it). `window_limits`: the limits the inserting replica is configured with, one per
// window id; NULL (a row from an older replica) checks against the stored limit.
const COLUMNS = [
  `ALTER TABLE ${RESERVATIONS} ADD COLUMN in_flight_micro bigint NOT NULL DEFAULT 0`,
  `ALTER TABLE ${RESERVATIONS} ADD COLUMN window_limits text NULL`,
];

// Each refusing window with the figures the check saw: the 429 names it without reading again.
const SQLITE_ADMIT = `CREATE TRIGGER resilient_llm_reservation_admit BEFORE INSERT ON ${RESERVATIONS}
   WHEN NEW.state = 'held'
   BEGIN
     SELECT RAISE(ABORT, 'resilient_llm:unknown_window')
      WHERE (SELECT COUNT(*) FROM resilient_llm_budget_window WHERE id IN (SELECT value FROM json_each(NEW.window_ids)))
            <> json_array_length(NEW.window_ids);
     SELECT RAISE(ABORT, 'resilient_llm:budget_exhausted:' ||
                  json_group_array(json_object('id', id, 'spent', spent, 'reserved', reserved, 'limit', cap)))
       FROM (SELECT w.id AS id, w.spent_micro AS spent, w.reserved_micro AS reserved,
                    COALESCE(json_extract(NEW.window_limits, '$[' || i.key || ']'), w.limit_micro) AS cap
               FROM json_each(NEW.window_ids) i JOIN resilient_llm_budget_window w ON w.id = i.value)
      WHERE spent + reserved + NEW.amount_micro > cap
     HAVING COUNT(*) > 0;
   END`;

// Only a change of state or money moves window counters: renewing a lease or marking money in
// flight touches no window row (on PostgreSQL, no lock on the hot global window).
const settleTrigger = (columns: string) => `CREATE TRIGGER resilient_llm_reservation_settle AFTER UPDATE${columns} ON ${RESERVATIONS}
   BEGIN
     UPDATE resilient_llm_budget_window
        SET reserved_micro = reserved_micro - CASE WHEN OLD.state = 'held' AND NEW.state <> 'held' THEN OLD.amount_micro ELSE 0 END,
            spent_micro = spent_micro + NEW.actual_micro - OLD.actual_micro,
            waste_micro = waste_micro + NEW.waste_micro - OLD.waste_micro
      WHERE id IN (SELECT value FROM json_each(NEW.window_ids));
   END`;

// The old admit trigger, for `down`.
const SQLITE_ADMIT_STORED_LIMIT = `CREATE TRIGGER resilient_llm_reservation_admit BEFORE INSERT ON ${RESERVATIONS}
   WHEN NEW.state = 'held'
   BEGIN
     SELECT RAISE(ABORT, 'resilient_llm:unknown_window')
      WHERE (SELECT COUNT(*) FROM resilient_llm_budget_window WHERE id IN (SELECT value FROM json_each(NEW.window_ids)))
            <> json_array_length(NEW.window_ids);
     SELECT RAISE(ABORT, 'resilient_llm:budget_exhausted')
      WHERE EXISTS (SELECT 1 FROM resilient_llm_budget_window w
                     WHERE w.id IN (SELECT value FROM json_each(NEW.window_ids))
                       AND w.spent_micro + w.reserved_micro + NEW.amount_micro > w.limit_micro);
   END`;

// PostgreSQL: each window locked in id order (no deadlocks), checked against the replica's limit,
// reserved while none refused; every refusing window is reported with the figures it had.
const POSTGRES_ADMIT = `CREATE OR REPLACE FUNCTION resilient_llm_reservation_insert() RETURNS trigger LANGUAGE plpgsql AS $$
   DECLARE
     entry record;
     win record;
     cap bigint;
     refusals jsonb := '[]'::jsonb;
   BEGIN
     IF NEW.state <> 'held' THEN
       RETURN NEW;
     END IF;
     FOR entry IN SELECT value AS id, (ordinality - 1)::int AS position
                    FROM json_array_elements_text(NEW.window_ids::json) WITH ORDINALITY ORDER BY value LOOP
       SELECT spent_micro, reserved_micro, limit_micro INTO win FROM resilient_llm_budget_window WHERE id = entry.id FOR UPDATE;
       IF NOT FOUND THEN
         RAISE EXCEPTION 'resilient_llm:unknown_window:%', entry.id;
       END IF;
       cap := COALESCE((NEW.window_limits::json ->> entry.position)::bigint, win.limit_micro);
       IF win.spent_micro + win.reserved_micro + NEW.amount_micro > cap THEN
         refusals := refusals || jsonb_build_object('id', entry.id, 'spent', win.spent_micro, 'reserved', win.reserved_micro, 'limit', cap);
       ELSIF jsonb_array_length(refusals) = 0 THEN
         UPDATE resilient_llm_budget_window SET reserved_micro = reserved_micro + NEW.amount_micro WHERE id = entry.id;
       END IF;
     END LOOP;
     IF jsonb_array_length(refusals) > 0 THEN
       RAISE EXCEPTION 'resilient_llm:budget_exhausted:%', refusals::text;
     END IF;
     RETURN NEW;
   END $$`;

const postgresSettleTrigger = (columns: string) => [
  `DROP TRIGGER resilient_llm_reservation_settle ON ${RESERVATIONS}`,
  `CREATE TRIGGER resilient_llm_reservation_settle AFTER UPDATE${columns} ON ${RESERVATIONS}
   FOR EACH ROW EXECUTE FUNCTION resilient_llm_reservation_settle()`,
];

const MONEY_COLUMNS = ' OF state, actual_micro, waste_micro';

/**
 * Money in flight and per-replica limits: an expired lease charges what its call had sent, each
 * replica's reservations are checked against its own configured limits, and a refusal names the
 * windows that refused with the figures they had. Runs on existing ledgers (rows keep in_flight 0).
 */
export class InFlightMoneyAndReplicaLimits1765152000000 implements MigrationInterface {
  name = 'InFlightMoneyAndReplicaLimits1765152000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const sqlite = [
      'DROP TRIGGER resilient_llm_reservation_admit',
      SQLITE_ADMIT,
      'DROP TRIGGER resilient_llm_reservation_settle',
      settleTrigger(MONEY_COLUMNS),
    ];
    for (const statement of [...COLUMNS, ...(postgres ? [POSTGRES_ADMIT, ...postgresSettleTrigger(MONEY_COLUMNS)] : sqlite)]) {
      await queryRunner.query(statement);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const sqlite = [
      'DROP TRIGGER resilient_llm_reservation_admit',
      SQLITE_ADMIT_STORED_LIMIT,
      'DROP TRIGGER resilient_llm_reservation_settle',
      settleTrigger(''),
    ];
    for (const statement of postgres ? [HELD_ONLY_BEFORE_INSERT, ...postgresSettleTrigger('')] : sqlite) await queryRunner.query(statement);
    await queryRunner.query(`ALTER TABLE ${RESERVATIONS} DROP COLUMN window_limits`);
    await queryRunner.query(`ALTER TABLE ${RESERVATIONS} DROP COLUMN in_flight_micro`);
  }
}
