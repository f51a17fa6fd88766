import type { DatarunConfig } from '@datarun/config';
import { PlatformModule } from '@datarun/platform';
import { type DynamicModule, Module } from '@nestjs/common';

/** Reference connector a utility runs: its transfer topic, its own system, the status topic. */
@Module({})
export class UtilityBridgeModule {
  static forRoot(config: DatarunConfig): DynamicModule {
    return {
      module: UtilityBridgeModule,
      imports: [PlatformModule.forRoot(config, { app: `utility-bridge-${config.utilityKind}`, dependencies: ['kafka'] })],
    };
  }
}
