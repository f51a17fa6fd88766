export { AuditEventEntity } from './audit-event.entity.js';
export type { AuditDecision } from './audit-event.entity.js';
export { AuditLog } from './audit-log.js';
export type { AuditEventInput } from './audit-log.js';
export { SubjectPseudonyms } from './subject-pseudonym.js';
export { AuditModule } from './audit.module.js';
