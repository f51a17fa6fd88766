import { z } from 'zod';
import { defineSection } from '../section.js';
import { filePath, folderPath } from '../values.js';

export interface AuditConfig {
  /** Where signed checkpoints are also appended (NDJSON), outside the database. */
  readonly checkpointFile: string;
  /** Seconds between periodic checkpoints; 0 turns them off. */
  readonly checkpointIntervalSeconds: number;
  /** Months kept in the database before `npm run audit:archive -- --expired` archives them; 0 = forever. */
  readonly retentionMonths: number;
  /** Where archived months go, and where the verifier reads them from. */
  readonly archiveDir: string;
}

const variables = z.object({
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
      checkpointFile: v.DATARUN_AUDIT_CHECKPOINT_FILE ?? `${localDir}/audit/checkpoints.ndjson`,
      checkpointIntervalSeconds: v.AUDIT_CHECKPOINT_INTERVAL_SECONDS,
      retentionMonths: v.AUDIT_RETENTION_MONTHS,
      archiveDir: v.DATARUN_AUDIT_ARCHIVE_DIR ?? `${localDir}/audit/archive`,
    },
  }),
  derived: {
    DATARUN_AUDIT_CHECKPOINT_FILE: { from: 'DATARUN_LOCAL_DIR', value: (c) => c.audit.checkpointFile },
    DATARUN_AUDIT_ARCHIVE_DIR: { from: 'DATARUN_LOCAL_DIR', value: (c) => c.audit.archiveDir },
  },
});
