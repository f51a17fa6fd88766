import { CaseApprovalEntity } from './case-approval.entity.js';
import { CaseEventEntity } from './case-event.entity.js';
import { CaseMaterialEntity } from './case-material.entity.js';
import { CaseEntity } from './case.entity.js';

/** The cases lib's tables: service_case, case_material, case_approval, case_event. */
export const CASES_ENTITIES = [CaseEntity, CaseMaterialEntity, CaseApprovalEntity, CaseEventEntity];
