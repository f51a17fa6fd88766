import type { DatarunConfig } from '@datarun/config';
import { DATARUN_CONFIG } from '@datarun/platform';
import { MaterialLinks, materialLinksOf } from '@datarun/transfers';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CaseMaterials } from './case-materials.service.js';
import { CaseEntity } from './case.entity.js';
import { CasesService } from './cases.service.js';

/** Needs MattersService from the registry module in the importing app. */
@Module({
  imports: [TypeOrmModule.forFeature([CaseEntity])],
  providers: [
    CasesService,
    CaseMaterials,
    { provide: MaterialLinks, inject: [DATARUN_CONFIG], useFactory: (config: DatarunConfig) => materialLinksOf(config) },
  ],
  exports: [CasesService, CaseMaterials],
})
export class CasesModule {}
