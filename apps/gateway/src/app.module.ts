import { AuditModule } from '@datarun/audit';
import { AuthModule } from '@datarun/auth-guard';
import { CasesModule } from '@datarun/cases';
import type { DatarunConfig } from '@datarun/config';
import { LookupsModule } from '@datarun/lookups';
import { PlatformModule } from '@datarun/platform';
import { RegistryModule } from '@datarun/registry';
import { type DynamicModule, Module } from '@nestjs/common';
import { CasesController } from './cases.controller.js';
import { ExchangeController } from './exchange.controller.js';

/** Consumer-facing: cases, lookups, verifications and evidence bundles. */
@Module({})
export class GatewayModule {
  static forRoot(config: DatarunConfig): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        PlatformModule.forRoot(config, { app: 'gateway', dependencies: ['database'] }),
        AuthModule.forRoot(config),
        RegistryModule.forRoot(config),
        AuditModule.forRoot(config),
        CasesModule,
        LookupsModule,
      ],
      controllers: [CasesController, ExchangeController],
    };
  }
}
