import type { DatarunConfig } from '@datarun/config';
import { PlatformModule } from '@datarun/platform';
import { type DynamicModule, Module } from '@nestjs/common';

/** Department- and admin-facing: members, keys, sources, schema versions, grants, matters and record ingest. */
@Module({})
export class RegistryAppModule {
  static forRoot(config: DatarunConfig): DynamicModule {
    return {
      module: RegistryAppModule,
      imports: [PlatformModule.forRoot(config, { app: 'registry', dependencies: ['database'] })],
    };
  }
}
