import { type CaseFactsRow, caseFactsSql } from '@datarun/cases';
import { poolOf, type PreparedStatement, runPrepared } from '@datarun/db';
import { type EffectiveGrantRow, effectiveGrantsSql } from '@datarun/registry';
import { type ReplicaRow, replicaRecordSql } from '@datarun/sources';
import { Metrics } from '@datarun/metrics';
import { Injectable } from '@nestjs/common';
import type { Histogram } from 'prom-client';
import { DataSource } from 'typeorm';

/** What one lookup asks for: its case (of its consumer), the consumer's grants on the source, and the subject's replica record. */
export interface FactsQuery {
  readonly caseId: string;
  readonly consumer: string;
  readonly source: string;
  readonly subject: string;
}

// A type, not an interface: node-postgres' row type wants an index signature.
export type FactsRow = {
  readonly kase: CaseFactsRow | null;
  readonly grants: EffectiveGrantRow[];
  readonly record: ReplicaRow | null;
};

/** The most lookups read by one statement. */
const MAX_BATCH = 256;

/**
 * The lookup hot path's one prepared statement, for every lookup that asked in the same turn of
 * the event loop: the case, the grants that count and, for a replica source, the record of each,
 * in one round trip. Composed of the owners' own queries, each in its lib: the case from the cases
 * lib (`caseFactsSql`), the effective grants from the registry (`effectiveGrantsSql`), the record
 * from the sources lib (`replicaRecordSql`; read before the decision, it leaves this process only
 * if the decision allows); this lib names no table. $1 case ids, $2 consumers, $3 sources, $4
 * subjects, one element per lookup.
 */
const FACTS: PreparedStatement = {
  name: 'datarun_lookup_facts_batch',
  text: `SELECT (${caseFactsSql('q.case_id', 'q.consumer')}) AS kase,
                (${effectiveGrantsSql('q.consumer', 'q.source')}) AS grants,
                (${replicaRecordSql('q.source', 'q.subject')}) AS record
           FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS q(case_id, consumer, source, subject, n)
          ORDER BY q.n`,
};

interface Waiting {
  readonly query: FactsQuery;
  readonly resolve: (row: FactsRow) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Reads lookups' facts in batches: the lookups that ask in one turn of the event loop share one
 * statement. A lookup's cost on two cores was mostly its own round trip to PostgreSQL (a socket
 * write and a wake-up on both sides, a statement's overhead); under load, dozens of lookups arrive
 * per turn, and one statement serves them all. Alone, a lookup waits for nothing but the end of
 * its turn. Batches do not wait for each other: several may be in flight on the pool.
 */
@Injectable()
export class LookupFacts {
  private waiting: Waiting[] = [];
  private scheduled = false;
  private readonly batchSizes: Histogram;

  constructor(
    private readonly dataSource: DataSource,
    metrics: Metrics,
  ) {
    this.batchSizes = metrics.histogram({
      name: 'datarun_lookup_facts_batch_size',
      help: 'Lookups whose case, grants and record one statement read (LookupFacts)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    });
  }

  /** The facts of one lookup (its case id must be a UUID: one bad value would fail the batch). */
  of(query: FactsQuery): Promise<FactsRow> {
    return new Promise<FactsRow>((resolve, reject) => {
      this.waiting.push({ query, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.waiting.length > 0) void this.read(this.waiting.splice(0, MAX_BATCH));
  }

  private async read(batch: readonly Waiting[]): Promise<void> {
    this.batchSizes.observe(batch.length);
    try {
      const rows = await runPrepared<FactsRow>(poolOf(this.dataSource), FACTS, [
        batch.map((w) => w.query.caseId),
        batch.map((w) => w.query.consumer),
        batch.map((w) => w.query.source),
        batch.map((w) => w.query.subject),
      ]);
      batch.forEach((w, i) => w.resolve(rows[i]));
    } catch (error) {
      for (const w of batch) w.reject(error);
    }
  }
}
