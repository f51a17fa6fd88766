import { type Caller, requireRole } from '@datarun/auth';
import { DATARUN_CONFIG, type DatarunConfig } from '@datarun/config';
import { Problem } from '@datarun/problems';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { archiveFiles } from '../archive.js';
import { AUDIT_KEYS } from '../audit.module.js';
import { AuditCheckpoints, type AuditKeys, readCheckpointFile } from '../checkpoints.js';
import { type InclusionAnswer, proveInclusion } from '../inclusion.js';
import type { SignedCheckpoint } from '../integrity/index.js';
import { verifyAuditLog, type VerifyReport } from '../verification.js';

export interface VerifyAuditChainCommand {
  readonly caller: Caller;
  /** First sequence number, as given (default 1: the whole log, with Merkle roots). */
  readonly from?: string;
  /** Last sequence number, as given. */
  readonly to?: string;
}

/**
 * An auditor or admin verifies the chain over a range: against the configured audit keys only,
 * with the checkpoints copied outside the database and the archives of expired months.
 */
@Injectable()
export class VerifyAuditChain {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(AUDIT_KEYS) private readonly keys: AuditKeys,
    @Inject(DATARUN_CONFIG) private readonly config: DatarunConfig,
  ) {}

  run(cmd: VerifyAuditChainCommand): Promise<VerifyReport> {
    requireRole(cmd.caller, 'auditor', 'admin');
    if (this.keys.trusted.size === 0)
      throw new Problem('SERVICE_UNAVAILABLE', 'no audit public key is configured (DATARUN_AUDIT_PUBLIC_KEY or DATARUN_AUDIT_SIGNING_KEY)');
    return verifyAuditLog(this.dataSource, {
      trustedKey: this.keys.trusted,
      externalCheckpoints: readCheckpointFile(this.config.audit.checkpointFile),
      archives: archiveFiles(this.config.audit.archiveDir),
      from: seqOf('from', cmd.from),
      to: seqOf('to', cmd.to),
    });
  }
}

/** An auditor proves an event is in the tree the latest signed checkpoint covers. */
@Injectable()
export class ProveAuditEvent {
  constructor(
    private readonly dataSource: DataSource,
    private readonly checkpoints: AuditCheckpoints,
  ) {}

  async run(cmd: { readonly caller: Caller; readonly eventId: string }): Promise<InclusionAnswer> {
    requireRole(cmd.caller, 'auditor');
    return proveInclusion(this.dataSource, cmd.eventId, await this.checkpoints.latest());
  }
}

/** An admin signs a checkpoint of the head now (the periodic one is the housekeeping's). */
@Injectable()
export class SignAuditCheckpoint {
  constructor(private readonly checkpoints: AuditCheckpoints) {}

  run(cmd: { readonly caller: Caller }): Promise<SignedCheckpoint> {
    requireRole(cmd.caller, 'admin');
    return this.checkpoints.signNow();
  }
}

function seqOf(name: string, value?: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value)) throw new Problem('VALIDATION_FAILED', `${name} must be a sequence number`);
  return Number(value);
}
