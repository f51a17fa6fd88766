import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CaseEntity } from './case.entity.js';
import { CasesService } from './cases.service.js';

/** Needs MattersService from the registry module in the importing app. */
@Module({
  imports: [TypeOrmModule.forFeature([CaseEntity])],
  providers: [CasesService],
  exports: [CasesService],
})
export class CasesModule {}
