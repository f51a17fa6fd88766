import { AuditNames } from '@datarun/audit';
import { type Jwks, KeyDirectory, KeyRing } from '@datarun/auth';
import type { DatarunConfig } from '@datarun/config';
import { EgressPolicy, egressPolicyOf } from '@datarun/egress';
import { RecordSchemaGuard } from '@datarun/schemas';
import { ReplicaRecords } from '@datarun/sources';
import { type DynamicModule, Injectable, Logger, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { REGISTRY_ENTITIES } from './entities.js';
import { GrantsService } from './grants/grants.service.js';
import { MattersService } from './matters/matters.service.js';
import { MemberKeyDirectory } from './members/member-key-directory.js';
import { ADMIN_MEMBER_ID, MembersService } from './members/members.service.js';
import { RecipientDirectory } from './recipients/recipient-directory.js';
import { RegistryNames } from './registry-names.js';
import { SourcesService } from './sources/sources.service.js';

const RETRY_MS = 5000;

/**
 * Keeps the platform administrator's key as configured (loaded into the app's KeyRing at boot):
 * `datarun.admin` is created or its JWKS refreshed, retried until the database answers.
 */
@Injectable()
export class AdminKeySeed implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('AdminKeySeed');
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly members: MembersService,
    private readonly jwks: Jwks | undefined,
    private readonly keyFile: string,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.jwks) {
      this.logger.warn(`no administrator public key at ${this.keyFile} (DATARUN_ADMIN_PUBLIC_KEY): ${ADMIN_MEMBER_ID} cannot sign in`);
      return;
    }
    await this.seed(); // a failure schedules a retry instead of stopping the app
  }

  onApplicationShutdown(): void {
    clearTimeout(this.timer);
  }

  private async seed(): Promise<void> {
    try {
      await this.members.ensure(ADMIN_MEMBER_ID, 'Platform administrator', 'admin', this.jwks as never);
      this.logger.log(`${ADMIN_MEMBER_ID} key loaded from ${this.keyFile}`);
    } catch (error) {
      this.logger.warn(`cannot seed ${ADMIN_MEMBER_ID} yet: ${(error as Error).message}; retrying`);
      this.timer = setTimeout(() => void this.seed(), RETRY_MS);
    }
  }
}

@Module({})
export class RegistryModule {
  static forRoot(config: DatarunConfig, options: { seedAdmin: boolean } = { seedAdmin: false }): DynamicModule {
    return {
      module: RegistryModule,
      // Global: the registry's ports serve every app: members' keys (the guard's KeyDirectory, record
      // signatures), names (the citizen's access log, a case's recipients), matters, sources and recipients (cases, lookups, the relay).
      global: true,
      imports: [TypeOrmModule.forFeature(REGISTRY_ENTITIES)],
      providers: [
        { provide: RecordSchemaGuard, useValue: new RecordSchemaGuard() },
        MemberKeyDirectory,
        { provide: KeyDirectory, useExisting: MemberKeyDirectory },
        RegistryNames,
        { provide: AuditNames, useExisting: RegistryNames },
        ReplicaRecords,
        // Where a source's endpoint may point (EGRESS_ALLOWLIST); webhooks' URLs will be checked by it too.
        { provide: EgressPolicy, useValue: egressPolicyOf(config) },
        MembersService,
        SourcesService,
        GrantsService,
        MattersService,
        RecipientDirectory,
        ...(options.seedAdmin
          ? [
              {
                provide: AdminKeySeed,
                inject: [MembersService, KeyRing],
                useFactory: (m: MembersService, keys: KeyRing) => new AdminKeySeed(m, keys.get('adminPublicKey'), config.keys.adminPublicKey),
              },
            ]
          : []),
      ],
      exports: [
        MembersService,
        SourcesService,
        GrantsService,
        MattersService,
        RecipientDirectory,
        RecordSchemaGuard,
        MemberKeyDirectory,
        KeyDirectory,
        AuditNames,
        RegistryNames,
      ],
    };
  }
}
