import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * 容缺受理 (accept now, supply later): a matter may mark materials deferrable, each with the days
 * it may follow in; a case opened without one records it as deferred with its due time, and cannot
 * complete until it is uploaded.
 */
export class DeferredMaterials1763900000071 implements MigrationInterface {
  name = 'DeferredMaterials1763900000071';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE matter ADD COLUMN deferrable_materials jsonb NOT NULL DEFAULT '[]'`);
    await q.query(`ALTER TABLE service_case ADD COLUMN deferred jsonb NOT NULL DEFAULT '[]'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE service_case DROP COLUMN deferred');
    await q.query('ALTER TABLE matter DROP COLUMN deferrable_materials');
  }
}
