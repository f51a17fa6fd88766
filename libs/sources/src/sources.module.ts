import { KeyRing, PlatformCallSigner } from '@datarun/auth';
import { DATARUN_CONFIG, type DatarunConfig } from '@datarun/config';
import { egressPolicyOf } from '@datarun/egress';
import { type DynamicModule, Module } from '@nestjs/common';
import { FEDERATED_SOURCE_OPTIONS, FederatedSourceAdapter, type FederatedSourceOptions } from './federated-source-adapter.js';
import { ReplicaSourceAdapter } from './replica-source-adapter.js';
import { SourceAdapters } from './source-adapters.js';

/**
 * The source adapters; needs TypeORM's DataSource (the platform's database module), the
 * configuration and the app's KeyRing in the app. Federated calls go only where EGRESS_ALLOWLIST
 * allows, signed with the platform key when the app loaded one (the gateway requires it).
 */
@Module({})
export class SourcesModule {
  static forRoot(options: FederatedSourceOptions = {}): DynamicModule {
    return {
      module: SourcesModule,
      providers: [
        { provide: FEDERATED_SOURCE_OPTIONS, useValue: options },
        {
          provide: FederatedSourceAdapter,
          inject: [FEDERATED_SOURCE_OPTIONS, DATARUN_CONFIG, KeyRing],
          useFactory: (given: FederatedSourceOptions, config: DatarunConfig, keys: KeyRing) => {
            const signing = keys.get('platformSigningKey');
            return new FederatedSourceAdapter({
              egress: egressPolicyOf(config),
              ...(signing ? { identity: new PlatformCallSigner(signing) } : {}),
              ...given,
            });
          },
        },
        ReplicaSourceAdapter,
        SourceAdapters,
      ],
      exports: [FederatedSourceAdapter, ReplicaSourceAdapter, SourceAdapters],
    };
  }
}
