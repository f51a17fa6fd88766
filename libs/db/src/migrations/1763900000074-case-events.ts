import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every change of a case as an ordered event (GET /v1/cases/{id}/events streams them, and a
 * client resumes after the last id it saw): its state, each approval decided, each material
 * uploaded, each recipient's status. Written by triggers in the transaction of the change itself,
 * whichever process makes it (the gateway for the hall's and departments' actions, the relay for
 * statuses), so no change can be missed or told twice.
 */
export class CaseEvents1763900000074 implements MigrationInterface {
  name = 'CaseEvents1763900000074';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE case_event (
        seq bigserial PRIMARY KEY,
        case_id uuid NOT NULL CONSTRAINT case_event_case_id_fkey REFERENCES service_case(id),
        type text NOT NULL,
        data jsonb NOT NULL,
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX case_event_case_idx ON case_event (case_id, seq)');
    await q.query(`
      CREATE FUNCTION case_event_of_case() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' OR NEW.state IS DISTINCT FROM OLD.state THEN
          INSERT INTO case_event (case_id, type, data)
          VALUES (NEW.id, 'case.' || NEW.state, jsonb_strip_nulls(jsonb_build_object('state', NEW.state, 'rejectionReason', NEW.rejection_reason)));
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER case_event_of_case AFTER INSERT OR UPDATE OF state ON service_case FOR EACH ROW EXECUTE FUNCTION case_event_of_case()`);
    await q.query(`
      CREATE FUNCTION case_event_of_approval() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.state IS DISTINCT FROM OLD.state THEN
          INSERT INTO case_event (case_id, type, data)
          VALUES (NEW.case_id, 'approval.' || NEW.state,
                  jsonb_strip_nulls(jsonb_build_object('approvalId', NEW.id, 'by', NEW.approver_id, 'state', NEW.state, 'reason', NEW.reason, 'overdue', NEW.decided_at > NEW.due_at)));
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER case_event_of_approval AFTER UPDATE OF state ON case_approval FOR EACH ROW EXECUTE FUNCTION case_event_of_approval()`);
    await q.query(`
      CREATE FUNCTION case_event_of_material() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO case_event (case_id, type, data) VALUES (NEW.case_id, 'material.uploaded', jsonb_build_object('type', NEW.type, 'sha256', NEW.sha256));
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER case_event_of_material AFTER INSERT ON case_material FOR EACH ROW EXECUTE FUNCTION case_event_of_material()`);
    await q.query(`
      CREATE FUNCTION case_event_of_request() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' OR NEW.state IS DISTINCT FROM OLD.state THEN
          INSERT INTO case_event (case_id, type, data)
          VALUES (NEW.case_id, 'request.' || NEW.state,
                  jsonb_strip_nulls(jsonb_build_object('requestId', NEW.request_id, 'recipient', NEW.recipient, 'utility', NEW.utility,
                    'request', NEW.request_kind, 'benefit', NEW.benefit, 'state', NEW.state, 'reference', NEW.reference, 'reason', NEW.reason)));
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(
      `CREATE TRIGGER case_event_of_request AFTER INSERT OR UPDATE OF state ON transfer_request FOR EACH ROW EXECUTE FUNCTION case_event_of_request()`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TRIGGER case_event_of_request ON transfer_request');
    await q.query('DROP TRIGGER case_event_of_material ON case_material');
    await q.query('DROP TRIGGER case_event_of_approval ON case_approval');
    await q.query('DROP TRIGGER case_event_of_case ON service_case');
    await q.query('DROP FUNCTION case_event_of_request(), case_event_of_material(), case_event_of_approval(), case_event_of_case()');
    await q.query('DROP TABLE case_event');
  }
}
