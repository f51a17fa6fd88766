import { CasesModule } from '@datarun/cases';
import { SourcesModule } from '@datarun/sources';
import { Module } from '@nestjs/common';
import { ExchangeService } from './exchange.service.js';
import { LookupFacts } from './lookup-facts.js';
import { SourceDirectory } from './source-directory.js';

/** Needs the registry (sources, matters, RecordSchemaGuard) and audit modules in the importing app; cases' facts come from CasesModule. */
@Module({
  imports: [SourcesModule.forRoot(), CasesModule],
  providers: [SourceDirectory, LookupFacts, ExchangeService],
  exports: [ExchangeService, SourceDirectory],
})
export class LookupsModule {}
