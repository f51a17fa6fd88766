import { KeyRing } from '@datarun/auth';
import type { DatarunConfig } from '@datarun/config';
import { KafkaMessaging } from '@datarun/messaging';
import { Metrics } from '@datarun/metrics';
import { type DynamicModule, Injectable, Logger, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CitizenAccessLog } from './access-log.js';
import { AUDIT_ENTITIES } from './audit-event.entity.js';
import { AuditLog } from './audit-log.js';
import { AuditQueries } from './audit-queries.js';
import { AuditCheckpoints, type AuditKeys, auditKeysOf, CHECKPOINT_TOPIC } from './checkpoints.js';
import { SubjectPseudonyms } from './subject-pseudonym.js';

export const AUDIT_KEYS = Symbol('AUDIT_KEYS');
const DAY_MS = 24 * 3600 * 1000;

/**
 * The audit app's housekeeping: the checkpoint topic, monthly partitions prepared ahead, and a
 * checkpoint signed periodically when the chain has moved.
 */
@Injectable()
export class AuditHousekeeping implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('AuditHousekeeping');
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly dataSource: DataSource,
    private readonly checkpoints: AuditCheckpoints,
    private readonly intervalSeconds: number,
    private readonly messaging?: KafkaMessaging,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.safely('prepare partitions', () => this.dataSource.query('SELECT audit_ensure_partitions(3)'));
    if (this.messaging) {
      await this.safely('create the checkpoint topic', () =>
        this.messaging!.ensureTopics([{ topic: CHECKPOINT_TOPIC, partitions: 1, config: { 'retention.ms': '-1', 'cleanup.policy': 'delete' } }]),
      );
    }
    this.timers.push(setInterval(() => void this.safely('prepare partitions', () => this.dataSource.query('SELECT audit_ensure_partitions(3)')), DAY_MS));
    if (this.intervalSeconds > 0) {
      this.timers.push(setInterval(() => void this.safely('sign a checkpoint', () => this.checkpoints.signNow(), true), this.intervalSeconds * 1000));
    }
    for (const t of this.timers) t.unref();
  }

  onApplicationShutdown(): void {
    for (const t of this.timers) clearInterval(t);
  }

  private async safely(what: string, work: () => Promise<unknown>, quietWhenEmpty = false): Promise<void> {
    try {
      await work();
    } catch (error) {
      if (quietWhenEmpty && (error as { code?: string }).code === 'STATE_CONFLICT') return;
      this.logger.error(`cannot ${what}: ${(error as Error).message}`);
    }
  }
}

@Module({})
export class AuditModule {
  /**
   * The audit log for an app. Takes the subject hash key from the app's KeyRing, where it must be
   * required (an audit log of clear ID numbers is not an option). `housekeeping` (the audit app,
   * and only it) adds the checkpoints: their keys, signing on demand and periodically; no other app
   * has a checkpoint signer to call, nor the key (loadKeys) or the database right to use one.
   * The citizen's access log needs `AuditNames` from the app (the registry module provides it).
   */
  static forRoot(config: DatarunConfig, options: { housekeeping?: boolean } = {}): DynamicModule {
    return {
      module: AuditModule,
      global: true,
      imports: [TypeOrmModule.forFeature(AUDIT_ENTITIES)],
      providers: [
        {
          provide: AuditLog,
          inject: [DataSource, { token: Metrics, optional: true }],
          useFactory: (ds: DataSource, metrics?: Metrics) => new AuditLog(ds, { appendTimeoutMs: config.audit.appendTimeoutMs, metrics }),
        },
        AuditQueries,
        CitizenAccessLog,
        { provide: SubjectPseudonyms, inject: [KeyRing], useFactory: (keys: KeyRing) => new SubjectPseudonyms(keys.require('subjectHashKey')) },
        ...(options.housekeeping
          ? [
              { provide: AUDIT_KEYS, inject: [KeyRing], useFactory: auditKeysOf },
              {
                provide: AuditCheckpoints,
                inject: [DataSource, AUDIT_KEYS, { token: KafkaMessaging, optional: true }],
                useFactory: (ds: DataSource, keys: AuditKeys, messaging?: KafkaMessaging) =>
                  new AuditCheckpoints(ds, keys, config.audit.checkpointFile, messaging),
              },
              {
                provide: AuditHousekeeping,
                inject: [DataSource, AuditCheckpoints, { token: KafkaMessaging, optional: true }],
                useFactory: (ds: DataSource, c: AuditCheckpoints, messaging?: KafkaMessaging) =>
                  new AuditHousekeeping(ds, c, config.audit.checkpointIntervalSeconds, messaging),
              },
            ]
          : []),
      ],
      exports: [AuditLog, SubjectPseudonyms, AuditQueries, CitizenAccessLog, ...(options.housekeeping ? [AuditCheckpoints, AUDIT_KEYS] : [])],
    };
  }
}
