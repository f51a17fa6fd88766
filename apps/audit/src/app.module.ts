import { AUDIT_USE_CASES, AuditModule } from '@datarun/audit';
import { AuthModule } from '@datarun/auth-guard';
import type { DatarunConfig } from '@datarun/config';
import { PlatformModule } from '@datarun/platform';
import { RegistryModule } from '@datarun/registry';
import { type DynamicModule, Module } from '@nestjs/common';
import { AuditController } from './audit.controller.js';

/** Auditor- and citizen-facing: audit search, verification, checkpoints and reports. */
@Module({})
export class AuditAppModule {
  static forRoot(config: DatarunConfig): DynamicModule {
    return {
      module: AuditAppModule,
      imports: [
        PlatformModule.forRoot(config, {
          app: 'audit',
          dependencies: ['database', 'kafka'],
          // Verification trusts the audit public key when one is configured, else the signing key's half.
          keys: { required: ['subjectHashKey'], production: ['citizenIdpPublicKey', 'auditSigningKey'], optional: ['auditPublicKey'] },
        }),
        AuthModule.forRoot(config),
        // Members' keys for the guard and names for the citizen's access log: the registry's ports.
        RegistryModule.forRoot(config),
        AuditModule.forRoot(config, { housekeeping: true }),
      ],
      controllers: [AuditController],
      providers: [...AUDIT_USE_CASES],
    };
  }
}
