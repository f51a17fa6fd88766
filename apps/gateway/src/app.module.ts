import { AuditModule } from '@datarun/audit';
import { AuthModule } from '@datarun/auth-guard';
import { CasesModule, MATERIAL_MEDIA_TYPES, MAX_MATERIAL_BYTES } from '@datarun/cases';
import { type DatarunConfig, refuseDevelopmentDefaults } from '@datarun/config';
import { LookupsModule } from '@datarun/lookups';
import { PlatformModule } from '@datarun/platform';
import { RegistryModule } from '@datarun/registry';
import { type DynamicModule, Module } from '@nestjs/common';
import { CasesController } from './cases.controller.js';
import { ExchangeController } from './exchange.controller.js';
import { MaterialsController } from './materials.controller.js';
import { PlatformKeysController } from './platform-keys.controller.js';

/** Consumer-facing: cases (with materials and completion), lookups, verifications, evidence bundles, material links. */
@Module({})
export class GatewayModule {
  static forRoot(config: DatarunConfig): DynamicModule {
    // A material fetch is audited under the member that receives the link's utility kind: the demo city's serve development and tests only.
    refuseDevelopmentDefaults(config, ['utility-recipients']);
    return {
      module: GatewayModule,
      imports: [
        PlatformModule.forRoot(config, {
          app: 'gateway',
          dependencies: ['database'],
          // The audit log's pseudonyms, material links and the platform identity of federated calls cannot go
          // without; citizen tokens only outside production; other platform public keys (a rotation) when present.
          keys: { required: ['subjectHashKey', 'materialLinkKey', 'platformSigningKey'], production: ['citizenIdpPublicKey'], optional: ['platformPublicKey'] },
          binaryBodies: { types: MATERIAL_MEDIA_TYPES, limit: MAX_MATERIAL_BYTES },
        }),
        AuthModule.forRoot(config),
        RegistryModule.forRoot(config),
        AuditModule.forRoot(config),
        CasesModule,
        LookupsModule,
      ],
      controllers: [CasesController, ExchangeController, MaterialsController, PlatformKeysController],
    };
  }
}
