import { ReadMyAccessLog, ReportAnomalies } from './audit-reports.js';
import { ProveAuditEvent, SignAuditCheckpoint, VerifyAuditChain } from './audit-integrity.js';
import { SearchAuditEvents } from './search-audit-events.js';

export { SearchAuditEvents } from './search-audit-events.js';
export type { AuditEventPage, AuditSearchAnswer, SearchAuditEventsCommand } from './search-audit-events.js';
export type { AuditExport } from './audit-export.js';
export { ProveAuditEvent, SignAuditCheckpoint, VerifyAuditChain } from './audit-integrity.js';
export type { VerifyAuditChainCommand } from './audit-integrity.js';
export { ReadMyAccessLog, ReportAnomalies } from './audit-reports.js';
export type { AnomalyReportCommand } from './audit-reports.js';

/**
 * The audit app's use cases: each takes a command carrying the caller and checks the caller's
 * role itself. The app lists them as providers (they need its checkpoint keys and signer).
 */
export const AUDIT_USE_CASES = [SearchAuditEvents, VerifyAuditChain, ProveAuditEvent, SignAuditCheckpoint, ReportAnomalies, ReadMyAccessLog];
