import { existsSync, readFileSync } from 'node:fs';
import type { DatarunConfig } from '@datarun/config';
import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditEventEntity } from './audit-event.entity.js';
import { AuditLog } from './audit-log.js';
import { SubjectPseudonyms } from './subject-pseudonym.js';

@Module({})
export class AuditModule {
  /** Refuses to start without the subject hash key: an audit log of clear ID numbers is not an option. */
  static forRoot(config: DatarunConfig): DynamicModule {
    return {
      module: AuditModule,
      global: true,
      imports: [TypeOrmModule.forFeature([AuditEventEntity])],
      providers: [
        AuditLog,
        {
          provide: SubjectPseudonyms,
          useFactory: () => {
            const file = config.keys.subjectHashKey;
            if (!existsSync(file)) throw new Error(`no subject hash key at ${file} (DATARUN_SUBJECT_HASH_KEY); npm start creates a development one`);
            return new SubjectPseudonyms(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url'));
          },
        },
      ],
      exports: [AuditLog, SubjectPseudonyms],
    };
  }
}
