import type { DatarunConfig } from '@datarun/config';
import { PlatformModule } from '@datarun/platform';
import { type DynamicModule, Module } from '@nestjs/common';

/** Consumer-facing: cases, lookups, verifications and evidence bundles. */
@Module({})
export class GatewayModule {
  static forRoot(config: DatarunConfig): DynamicModule {
    return {
      module: GatewayModule,
      imports: [PlatformModule.forRoot(config, { app: 'gateway', dependencies: ['database'] })],
    };
  }
}
