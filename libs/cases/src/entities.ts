import { CaseApprovalEntity } from './case-approval.entity.js';
import { CaseMaterialEntity } from './case-material.entity.js';
import { CaseEntity } from './case.entity.js';

/** The cases lib's tables: service_case, case_material, case_approval. */
export const CASES_ENTITIES = [CaseEntity, CaseMaterialEntity, CaseApprovalEntity];
