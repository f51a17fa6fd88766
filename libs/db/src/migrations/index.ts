import { ApplicationRole1763900000000 } from './1763900000000-application-role.js';
import { Members1763900000001 } from './1763900000001-members.js';
import { Registry1763900000002 } from './1763900000002-registry.js';
import { Cases1763900000003 } from './1763900000003-cases.js';
import { AccessAudit1763900000004 } from './1763900000004-access-audit.js';
import { TamperEvidentAudit1763900000005 } from './1763900000005-tamper-evident-audit.js';
import { MigrationsReadable1763900000006 } from './1763900000006-migrations-readable.js';
import { Transfers1763900000007 } from './1763900000007-transfers.js';
import { CorrelationIds1763900000010 } from './1763900000010-correlation-ids.js';
import { AuditCheckpointWriter1763900000020 } from './1763900000020-audit-checkpoint-writer.js';
import { MemberSuspension1763900000021 } from './1763900000021-member-suspension.js';
import { KafkaSignatures1763900000033 } from './1763900000033-kafka-signatures.js';
import { Recipients1763900000040 } from './1763900000040-recipients.js';
import { RequestRecipients1763900000041 } from './1763900000041-request-recipients.js';
import { ConnectorInboxLeaves1763900000042 } from './1763900000042-connector-inbox-leaves.js';
import { RelayLease1763900000050 } from './1763900000050-relay-lease.js';
import { AuditPartitionsFromDefault1763900000060 } from './1763900000060-audit-partitions-from-default.js';
import { SupersededRequests1763900000061 } from './1763900000061-superseded-requests.js';
import { AuditSeqIndex1763900000062 } from './1763900000062-audit-seq-index.js';
import { CaseApprovals1763900000070 } from './1763900000070-case-approvals.js';
import { DeferredMaterials1763900000071 } from './1763900000071-deferred-materials.js';
import { CaseSearch1763900000072 } from './1763900000072-case-search.js';
import { MatterStatistics1763900000073 } from './1763900000073-matter-statistics.js';

/** Every migration, in order. A new migration is added here and nowhere else. */
export const MIGRATIONS = [
  ApplicationRole1763900000000,
  Members1763900000001,
  Registry1763900000002,
  Cases1763900000003,
  AccessAudit1763900000004,
  TamperEvidentAudit1763900000005,
  MigrationsReadable1763900000006,
  Transfers1763900000007,
  CorrelationIds1763900000010,
  AuditCheckpointWriter1763900000020,
  MemberSuspension1763900000021,
  KafkaSignatures1763900000033,
  Recipients1763900000040,
  RequestRecipients1763900000041,
  ConnectorInboxLeaves1763900000042,
  RelayLease1763900000050,
  AuditPartitionsFromDefault1763900000060,
  SupersededRequests1763900000061,
  AuditSeqIndex1763900000062,
  CaseApprovals1763900000070,
  DeferredMaterials1763900000071,
  CaseSearch1763900000072,
  MatterStatistics1763900000073,
];
