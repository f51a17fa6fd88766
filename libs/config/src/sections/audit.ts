import { z } from 'zod';
import { defineSection } from '../section.js';
import { filePath, folderPath } from '../values.js';

export interface AuditConfig {
  /** The key id (`kid`) checkpoints signed with DATARUN_AUDIT_SIGNING_KEY carry; a new key gets a new id. */
  readonly keyId: string;
  /** Where signed checkpoints are also appended (NDJSON), outside the database. */
  readonly checkpointFile: string;
  /** Seconds between periodic checkpoints; 0 turns them off. */
  readonly checkpointIntervalSeconds: number;
  /** Months kept in the database before `npm run audit:archive -- --expired` archives them; 0 = forever. */
  readonly retentionMonths: number;
  /** Where archived months go, and where the verifier reads them from. */
  readonly archiveDir: string;
  /** Longest wait of an audit append for the chain head's lock and for each of its statements. */
  readonly appendTimeoutMs: number;
}

const variables = z.object({
  DATARUN_AUDIT_KEY_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'a key id of 1 to 64 characters A-Z a-z 0-9 . _ -')
    .default('audit')
    .describe(
      'Key id (`kid`) of DATARUN_AUDIT_SIGNING_KEY: every checkpoint carries it, and verifiers check each checkpoint with the public key of its kid. Give each new signing key a new id (docs/operations.md, rotating the audit key); a PEM in DATARUN_AUDIT_PUBLIC_KEY gets this id too.',
    ),
  DATARUN_AUDIT_CHECKPOINT_FILE: filePath
    .optional()
    .describe('NDJSON file the audit app appends every signed checkpoint to (a copy outside the database, read by the verifier).'),
  AUDIT_CHECKPOINT_INTERVAL_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(86400)
    .default(60)
    .describe(
      'Seconds between the periodic signed checkpoints of the audit app (only when the chain has moved); 0 signs only on demand (`POST /v1/audit/checkpoints`).',
    ),
  AUDIT_RETENTION_MONTHS: z.coerce
    .number()
    .int()
    .min(0)
    .max(1200)
    .default(0)
    .describe(
      'Months of audit events kept in the database; `npm run audit:archive -- --expired` archives older months to files and drops their partitions. 0 keeps everything.',
    ),
  AUDIT_APPEND_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(60_000)
    .default(3000)
    .describe(
      'Milliseconds an audit append waits for the chain head lock and for each of its statements (lock_timeout, statement_timeout; the client gives up one second later on a database that does not answer). Past it the audited answer is 503 AUDIT_UNAVAILABLE instead of a request that hangs.',
    ),
  DATARUN_AUDIT_ARCHIVE_DIR: folderPath
    .optional()
    .describe(
      'Folder of the archived audit months (`audit-YYYY-MM.ndjson`); the verifier reads them before the database. Production: durable storage, backed up.',
    ),
});

export const AUDIT_SECTION = defineSection({
  name: 'audit',
  owner: '@datarun/audit',
  variables,
  read: (v, { localDir }): { readonly audit: AuditConfig } => ({
    audit: {
      keyId: v.DATARUN_AUDIT_KEY_ID,
      checkpointFile: v.DATARUN_AUDIT_CHECKPOINT_FILE ?? `${localDir}/audit/checkpoints.ndjson`,
      checkpointIntervalSeconds: v.AUDIT_CHECKPOINT_INTERVAL_SECONDS,
      retentionMonths: v.AUDIT_RETENTION_MONTHS,
      archiveDir: v.DATARUN_AUDIT_ARCHIVE_DIR ?? `${localDir}/audit/archive`,
      appendTimeoutMs: v.AUDIT_APPEND_TIMEOUT_MS,
    },
  }),
  derived: {
    DATARUN_AUDIT_CHECKPOINT_FILE: { from: 'DATARUN_LOCAL_DIR', value: (c) => c.audit.checkpointFile },
    DATARUN_AUDIT_ARCHIVE_DIR: { from: 'DATARUN_LOCAL_DIR', value: (c) => c.audit.archiveDir },
  },
});
