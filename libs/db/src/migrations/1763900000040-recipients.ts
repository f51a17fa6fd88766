import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every unit a matter notifies is a registered member (docs/api.md, "Recipients"): a utility or
 * department member registers how its requests reach it (its own Kafka connector, or a webhook
 * the relay posts to) and which requests it handles. A utility kind (water, cable, …) has at most
 * one recipient member, so that a matter naming the kind resolves to exactly one signer of its
 * statuses. The application role's rights come from the default privileges (migration 0).
 */
export class Recipients1763900000040 implements MigrationInterface {
  name = 'Recipients1763900000040';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE recipient (
        member_id text PRIMARY KEY CONSTRAINT recipient_member_id_fkey REFERENCES member(id),
        delivery text NOT NULL CONSTRAINT recipient_delivery_check CHECK (delivery IN ('kafka', 'webhook')),
        endpoint text,
        requests text[] NOT NULL
          CONSTRAINT recipient_requests_check CHECK (cardinality(requests) > 0 AND requests <@ ARRAY['transfer', 'discount', 'benefit']::text[]),
        utility_kind text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT recipient_endpoint_check CHECK ((delivery = 'webhook') = (endpoint IS NOT NULL))
      )`);
    await q.query('CREATE UNIQUE INDEX recipient_utility_kind_key ON recipient (utility_kind) WHERE utility_kind IS NOT NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE recipient');
  }
}
