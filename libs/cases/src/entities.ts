import { CaseMaterialEntity } from './case-material.entity.js';
import { CaseEntity } from './case.entity.js';

/** The cases lib's tables: service_case, case_material. */
export const CASES_ENTITIES = [CaseEntity, CaseMaterialEntity];
