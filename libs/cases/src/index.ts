export { CaseEntity } from './case.entity.js';
export type { CaseState, CaseParty, CaseMaterial } from './case.entity.js';
export { CasesService } from './cases.service.js';
export type { OpenCaseCommand, CaseView } from './cases.service.js';
export { CasesModule } from './cases.module.js';
export { CaseMaterials, MATERIAL_MEDIA_TYPES, MAX_MATERIAL_BYTES } from './case-materials.service.js';
export type { MaterialUpload, MaterialBytes } from './case-materials.service.js';
export type { TransferView, TransferState } from './cases.service.js';
