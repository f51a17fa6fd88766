import type { DatarunConfig } from '@datarun/config';
import { PlatformModule } from '@datarun/platform';
import { type DynamicModule, Module } from '@nestjs/common';

/** Outbox to Kafka; Kafka to datarun (transfer status, record ingest). */
@Module({})
export class RelayModule {
  static forRoot(config: DatarunConfig): DynamicModule {
    return {
      module: RelayModule,
      imports: [PlatformModule.forRoot(config, { app: 'relay', dependencies: ['database', 'kafka'] })],
    };
  }
}
