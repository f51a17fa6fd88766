import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A month's partition can be created even when the default partition already holds rows of that
 * month (an import with its own times, or a month the housekeeping did not prepare in time): the
 * plain CREATE … PARTITION OF fails then ("updated partition constraint for default partition would
 * be violated"), and every later month stays in the default partition, unarchivable. The rows move
 * into the new partition in the same transaction, unchanged (same bytes and chain hashes: the
 * verifier reads the parent and sees the same log), with the default partition locked against new
 * rows meanwhile.
 */
export class AuditPartitionsFromDefault1763900000060 implements MigrationInterface {
  name = 'AuditPartitionsFromDefault1763900000060';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION audit_ensure_partitions(months_ahead integer) RETURNS integer
      LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
      DECLARE
        first date := date_trunc('month', now() - interval '1 month');
        created integer := 0;
        m date;
        name text;
      BEGIN
        FOR i IN 0..months_ahead + 1 LOOP
          m := first + make_interval(months => i);
          name := 'audit_event_' || to_char(m, 'YYYY_MM');
          IF to_regclass(name) IS NULL THEN
            -- No new rows for the month may reach the default partition while its rows move out.
            LOCK TABLE audit_event_default IN SHARE ROW EXCLUSIVE MODE;
            IF EXISTS (SELECT 1 FROM audit_event_default WHERE at >= m AND at < m + interval '1 month') THEN
              EXECUTE format('CREATE TABLE %I (LIKE audit_event INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
              EXECUTE format('INSERT INTO %I SELECT * FROM audit_event_default WHERE at >= %L AND at < %L', name, m, m + interval '1 month');
              -- Moved, not removed: the same rows are in the new partition, in this transaction.
              DELETE FROM audit_event_default WHERE at >= m AND at < m + interval '1 month';
              EXECUTE format('ALTER TABLE audit_event ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', name, m, m + interval '1 month');
            ELSE
              EXECUTE format('CREATE TABLE %I PARTITION OF audit_event FOR VALUES FROM (%L) TO (%L)', name, m, m + interval '1 month');
            END IF;
            -- A partition is a table of its own: without this the application role could change
            -- rows by naming the partition instead of the parent.
            EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %I FROM %I', name, current_setting('datarun.app_role'));
            created := created + 1;
          END IF;
        END LOOP;
        RETURN created;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION audit_ensure_partitions(months_ahead integer) RETURNS integer
      LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
      DECLARE
        first date := date_trunc('month', now() - interval '1 month');
        created integer := 0;
        m date;
        name text;
      BEGIN
        FOR i IN 0..months_ahead + 1 LOOP
          m := first + make_interval(months => i);
          name := 'audit_event_' || to_char(m, 'YYYY_MM');
          IF to_regclass(name) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF audit_event FOR VALUES FROM (%L) TO (%L)', name, m, m + interval '1 month');
            EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %I FROM %I', name, current_setting('datarun.app_role'));
            created := created + 1;
          END IF;
        END LOOP;
        RETURN created;
      END $$`);
  }
}
