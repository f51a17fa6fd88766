import type { DatarunConfig } from '@datarun/config';
import { PlatformModule } from '@datarun/platform';
import { type DynamicModule, Module } from '@nestjs/common';
import { SandboxDepartmentsController } from './departments.controller.js';
import { SandboxFaultInjectionController } from './fault-injection.controller.js';
import { SimulatedUtilities } from './simulated-utilities.js';
import { SandboxUtilitiesController } from './utilities.controller.js';

/** Simulated departments and utilities with synthetic data, for demos, tests and benchmarks. */
@Module({})
export class SandboxModule {
  static forRoot(config: DatarunConfig): DynamicModule {
    return {
      module: SandboxModule,
      // The departments verify the platform token of each federated call with the platform's public keys.
      imports: [PlatformModule.forRoot(config, { app: 'sandbox', dependencies: [], keys: { required: ['platformPublicKey'] } })],
      // Outages and latency on demand serve demos and tests; in production nobody may stop the flow.
      controllers: [SandboxDepartmentsController, SandboxUtilitiesController, ...(config.env === 'production' ? [] : [SandboxFaultInjectionController])],
      providers: [SimulatedUtilities],
    };
  }
}
