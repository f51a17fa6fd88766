import { AuditModule } from '@datarun/audit';
import { KeyRing } from '@datarun/auth';
import { AuthModule } from '@datarun/auth-guard';
import { CaseFacts } from '@datarun/cases';
import type { DatarunConfig } from '@datarun/config';
import { PlatformModule } from '@datarun/platform';
import { RegistryModule } from '@datarun/registry';
import { CaseMatters, OutboxRelay, RequestStatuses, StatusConsumer, UtilityTopics } from '@datarun/transfers';
import { DeadLetterRecorder, DeadLetterSeal, DeadLettersService, RelayGauges } from '@datarun/transfers';
import { RecordIngest, WEBHOOK_SIGNING_KEY, WebhookDelivery } from '@datarun/transfers';
import { type DynamicModule, Module } from '@nestjs/common';
import { OpsController } from './ops.controller.js';

/** Outbox to Kafka; Kafka to datarun (transfer status, record ingest, dead letters). */
@Module({})
export class RelayModule {
  static forRoot(config: DatarunConfig): DynamicModule {
    return {
      module: RelayModule,
      imports: [
        PlatformModule.forRoot(config, {
          app: 'relay',
          dependencies: ['database', 'kafka'],
          // The delivery key signs webhook deliveries: the relay's own, never the gateway's federated-call key.
          keys: { required: ['subjectHashKey', 'materialLinkKey', 'deliverySigningKey'], production: ['citizenIdpPublicKey'] },
        }),
        AuthModule.forRoot(config),
        RegistryModule.forRoot(config),
        AuditModule.forRoot(config),
      ],
      controllers: [OpsController],
      providers: [
        // The cases' matters for the relay's audit records: the cases lib's port.
        { provide: CaseMatters, useClass: CaseFacts },
        UtilityTopics,
        RequestStatuses,
        DeadLetterSeal,
        OutboxRelay,
        StatusConsumer,
        DeadLetterRecorder,
        DeadLettersService,
        RelayGauges,
        RecordIngest,
        // Webhooks are signed with the platform key the gateway publishes at GET /v1/platform/jwks.
        { provide: WEBHOOK_SIGNING_KEY, inject: [KeyRing], useFactory: (keys: KeyRing) => keys.require('deliverySigningKey') },
        WebhookDelivery,
      ],
    };
  }
}
