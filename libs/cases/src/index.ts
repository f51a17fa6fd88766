export { CaseEntity } from './case.entity.js';
export type { CaseState, CaseParty, CaseMaterial } from './case.entity.js';
export { CasesService } from './cases.service.js';
export type { OpenCaseCommand, CaseView } from './cases.service.js';
export { CasesModule } from './cases.module.js';
