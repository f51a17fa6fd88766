import { AuditModule } from '@datarun/audit';
import { AuthModule } from '@datarun/auth-guard';
import { CaseFacts, CasesModule, MATERIAL_MEDIA_TYPES, MAX_MATERIAL_BYTES } from '@datarun/cases';
import type { DatarunConfig } from '@datarun/config';
import { LookupsModule } from '@datarun/lookups';
import { PlatformModule } from '@datarun/platform';
import { RegistryModule } from '@datarun/registry';
import { CaseMatters, RecipientRequests, RequestStatuses } from '@datarun/transfers';
import { type DynamicModule, Module } from '@nestjs/common';
import { ApprovalsController } from './approvals.controller.js';
import { CasesController } from './cases.controller.js';
import { ExchangeController } from './exchange.controller.js';
import { MaterialsController } from './materials.controller.js';
import { MyCasesController } from './my-cases.controller.js';
import { PlatformKeysController } from './platform-keys.controller.js';
import { RequestsController } from './requests.controller.js';
import { StatsController } from './stats.controller.js';

/** Consumer-facing: cases (with materials and completion), lookups, verifications, evidence bundles; department-facing: approval tasks; recipient-facing: material links, requests and their statuses. */
@Module({})
export class GatewayModule {
  static forRoot(config: DatarunConfig): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        PlatformModule.forRoot(config, {
          app: 'gateway',
          dependencies: ['database'],
          // The audit log's pseudonyms, material links and the platform identity of federated calls cannot go
          // without; citizen tokens only outside production; other platform public keys (a rotation) when present.
          keys: {
            // The delivery keys' public halves: published beside the platform keys, for webhook recipients.
            required: ['subjectHashKey', 'materialLinkKey', 'platformSigningKey', 'deliveryPublicKey'],
            production: ['citizenIdpPublicKey'],
            optional: ['platformPublicKey'],
          },
          binaryBodies: { types: MATERIAL_MEDIA_TYPES, limit: MAX_MATERIAL_BYTES },
          // The data exchange: every request is an audit record (docs/audit.md).
          auditedRoutes: ['POST /v1/lookups', 'POST /v1/verifications', 'POST /v1/evidence-bundles'],
        }),
        AuthModule.forRoot(config),
        RegistryModule.forRoot(config),
        AuditModule.forRoot(config),
        CasesModule,
        LookupsModule,
      ],
      controllers: [
        ApprovalsController,
        CasesController,
        ExchangeController,
        MaterialsController,
        MyCasesController,
        PlatformKeysController,
        RequestsController,
        StatsController,
      ],
      providers: [
        // A status's audit record names its case's matter: the cases lib's port, as in the relay.
        { provide: CaseMatters, useExisting: CaseFacts },
        RequestStatuses,
        RecipientRequests,
      ],
    };
  }
}
