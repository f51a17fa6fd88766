import { SourcesModule } from '@datarun/sources';
import { Module } from '@nestjs/common';
import { ExchangeService } from './exchange.service.js';
import { SourceDirectory } from './source-directory.js';

/** Needs the registry (RecordSchemaGuard) and audit modules in the importing app. */
@Module({
  imports: [SourcesModule.forRoot()],
  providers: [SourceDirectory, ExchangeService],
  exports: [ExchangeService, SourceDirectory],
})
export class LookupsModule {}
