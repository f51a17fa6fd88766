/** What an adapter needs to know about a source: its registry entry and its current schema, compiled. */
export interface SourceDescriptor {
  readonly id: string;
  readonly owner: string;
  readonly mode: 'replica' | 'federated';
  readonly endpoint: string | null;
  readonly subjectKey: string;
  readonly schemaVersion: number;
  /** The compiled validator of the source's current schema. */
  readonly validate: (record: unknown) => { ok: true } | { ok: false; errors: Array<{ path: string; message: string }> };
}

/** One subject's record as the source gave it, with what provenance needs. */
export interface FetchedRecord {
  readonly data: Record<string, unknown>;
  readonly retrievedAt: Date;
  /** When the department last changed the record (replicas only: a federated answer is live). */
  readonly asOf?: Date;
  readonly schemaVersion: number;
}

/** On whose behalf and why a federated call is made: the claims of its platform token. */
export interface FetchCaller {
  /** The consumer member. */
  readonly member: string;
  /** The acting person at that member (the token's `sub`). */
  readonly actor: string;
  /** The matter code the record is read for. */
  readonly purpose: string;
  readonly caseId: string;
}

/**
 * Who is asking, for the department: the correlation id travels as `x-request-id` (and as a
 * `traceparent` when it is a trace id; left out, it is the request context's), and, with the
 * caller, a platform token signed for the source names the member, the acting person, the purpose
 * and the case, so that a department may refuse anyone else.
 */
export interface FetchContext {
  readonly correlationId?: string;
  readonly caller?: FetchCaller;
  /**
   * A replica's row already read by the caller's own statement (`replicaRecordSql`; `null`: no
   * record), so that a lookup reads it in the same round trip as its case and grants.
   */
  readonly replicaRow?: ReplicaRow | null;
}

/** A replica record's row as `replicaRecordSql` gives it. */
export interface ReplicaRow {
  readonly data: Record<string, unknown>;
  /** A timestamp, as a Date from a plain select or as ISO text from `row_to_json`. */
  readonly updated_at: Date | string;
  readonly schema_version: number;
}

/** Reads one subject's record from a source; `null` when the source has no record of the subject. */
export interface SourceAdapter {
  fetch(source: SourceDescriptor, subject: string, context?: FetchContext): Promise<FetchedRecord | null>;
}
