import type { DatarunConfig } from '@datarun/config';
import { PlatformModule } from '@datarun/platform';
import { CLOUDEVENTS_JSON } from '@datarun/transfers';
import { type DynamicModule, Module } from '@nestjs/common';
import { SandboxDepartmentsController } from './departments.controller.js';
import { SandboxFaultInjectionController } from './fault-injection.controller.js';
import { SandboxRecipientsController } from './recipients.controller.js';
import { SimulatedRegisters } from './simulated-registers.js';
import { SimulatedUtilities } from './simulated-utilities.js';
import { SandboxUtilitiesController } from './utilities.controller.js';
import { WebhookRecipients } from './webhook-recipients.js';
import { SandboxWebhooksController } from './webhooks.controller.js';

/** Simulated departments, utilities and recipients' systems with synthetic data, for demos, tests and benchmarks. */
@Module({})
export class SandboxModule {
  static forRoot(config: DatarunConfig): DynamicModule {
    return {
      module: SandboxModule,
      imports: [
        PlatformModule.forRoot(config, {
          app: 'sandbox',
          dependencies: [],
          // The departments verify the platform token of each federated call, and the webhooks
          // datarun's signature on each delivery, with the platform's public keys.
          keys: { required: ['platformPublicKey', 'deliveryPublicKey'] },
          // A webhook delivery is verified over its exact bytes before it is read.
          binaryBodies: { types: [CLOUDEVENTS_JSON], limit: 256 * 1024 },
        }),
      ],
      // Outages and latency on demand serve demos and tests; in production nobody may stop the flow.
      controllers: [
        SandboxDepartmentsController,
        SandboxUtilitiesController,
        SandboxRecipientsController,
        SandboxWebhooksController,
        ...(config.env === 'production' ? [] : [SandboxFaultInjectionController]),
      ],
      providers: [SimulatedUtilities, SimulatedRegisters, WebhookRecipients],
    };
  }
}
