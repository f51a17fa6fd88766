import { KeyRing } from '@datarun/auth';
import { DATARUN_CONFIG } from '@datarun/config';
import { CaseTransfers, MaterialLinks, materialLinksOf, OutboxWriter } from '@datarun/transfers';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CaseApprovals } from './case-approvals.service.js';
import { CaseFacts } from './case-facts.js';
import { CaseSearch } from './case-search.js';
import { MatterStatistics } from './matter-stats.js';
import { CaseMaterials } from './case-materials.service.js';
import { CasesService } from './cases.service.js';
import { CASES_ENTITIES } from './entities.js';

/**
 * Needs MattersService and RecipientDirectory from the registry module in the importing app. The outbox's ports
 * (`OutboxWriter`, `CaseTransfers`) are the transfers lib's, provided here for the cases' use.
 */
@Module({
  imports: [TypeOrmModule.forFeature(CASES_ENTITIES)],
  providers: [
    CasesService,
    CaseMaterials,
    CaseFacts,
    CaseApprovals,
    CaseSearch,
    MatterStatistics,
    OutboxWriter,
    CaseTransfers,
    { provide: MaterialLinks, inject: [DATARUN_CONFIG, KeyRing], useFactory: materialLinksOf },
  ],
  exports: [CasesService, CaseMaterials, CaseFacts, CaseApprovals, CaseSearch, MatterStatistics],
})
export class CasesModule {}
