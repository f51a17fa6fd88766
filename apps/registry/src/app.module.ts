import { AuditModule } from '@datarun/audit';
import { AuthModule } from '@datarun/auth-guard';
import type { DatarunConfig } from '@datarun/config';
import { PlatformModule } from '@datarun/platform';
import { RegistryModule } from '@datarun/registry';
import { type DynamicModule, Module } from '@nestjs/common';
import { GrantsController } from './grants.controller.js';
import { MattersController } from './matters.controller.js';
import { MembersController } from './members.controller.js';
import { SourcesController } from './sources.controller.js';

/** Department- and admin-facing: members, keys, sources, schema versions, grants, matters and record ingest. */
@Module({})
export class RegistryAppModule {
  static forRoot(config: DatarunConfig): DynamicModule {
    return {
      module: RegistryAppModule,
      imports: [
        PlatformModule.forRoot(config, {
          app: 'registry',
          dependencies: ['database'],
          keys: { required: ['subjectHashKey'], production: ['citizenIdpPublicKey', 'adminPublicKey'] },
        }),
        AuthModule.forRoot(config),
        AuditModule.forRoot(config),
        RegistryModule.forRoot(config, { seedAdmin: true }),
      ],
      controllers: [MembersController, SourcesController, GrantsController, MattersController],
    };
  }
}
