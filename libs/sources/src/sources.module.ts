import { type DynamicModule, Module } from '@nestjs/common';
import { FEDERATED_SOURCE_OPTIONS, FederatedSourceAdapter, type FederatedSourceOptions } from './federated-source-adapter.js';
import { ReplicaSourceAdapter } from './replica-source-adapter.js';
import { SourceAdapters } from './source-adapters.js';

/** The source adapters; needs TypeORM's DataSource (the platform's database module) in the app. */
@Module({})
export class SourcesModule {
  static forRoot(options: FederatedSourceOptions = {}): DynamicModule {
    return {
      module: SourcesModule,
      providers: [{ provide: FEDERATED_SOURCE_OPTIONS, useValue: options }, FederatedSourceAdapter, ReplicaSourceAdapter, SourceAdapters],
      exports: [FederatedSourceAdapter, ReplicaSourceAdapter, SourceAdapters],
    };
  }
}
