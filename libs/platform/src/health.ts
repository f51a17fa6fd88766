import { DatabaseConnection } from '@datarun/db';
import { KafkaMessaging } from '@datarun/messaging';
import { Problem } from '@datarun/problems';
import { Controller, Get, Inject, Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { PublicRoute } from './route-options.js';
import { ApiAnswer, closedObject, COUNT, type JsonSchema } from './api-answers.js';
import { ApiProblems } from './api-problems.js';
import { HealthCheckService, type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';

export type Dependency = 'database' | 'kafka' | 'recipient-system';

/** What an app provides under RECIPIENT_SYSTEM_PROBE when it depends on a recipient's own system (a connector's). */
export interface DependencyProbe {
  probe(): Promise<unknown>;
}
export const RECIPIENT_SYSTEM_PROBE = Symbol('RECIPIENT_SYSTEM_PROBE');

export const READINESS_DEPENDENCIES = Symbol('READINESS_DEPENDENCIES');

/**
 * Each dependency's check. A failure's own text (a connection string's host, a broker's error, the
 * schema's migration count) goes to the log, once each time it changes, never into the answer:
 * readiness is public, and what a dependency said is for the operator, not for whoever asks.
 */
@Injectable()
export class DependencyIndicators {
  private readonly logger = new Logger('Readiness');
  private readonly lastFailure = new Map<Dependency, string>();

  constructor(
    private readonly indicator: HealthIndicatorService,
    private readonly moduleRef: ModuleRef,
  ) {}

  async check(dependency: Dependency): Promise<HealthIndicatorResult> {
    const session = this.indicator.check(dependency);
    const started = Date.now();
    try {
      if (dependency === 'database') await this.moduleRef.get(DatabaseConnection, { strict: false }).check();
      else if (dependency === 'kafka') {
        const messaging = this.moduleRef.get(KafkaMessaging, { strict: false });
        await messaging.ping();
        // The broker answering is not enough: a consumer kafkajs gave up on consumes nothing while
        // the process lives on. Its group is named in the answer (a name of ours, not a secret).
        const stopped = messaging.stoppedConsumers();
        if (stopped.length > 0) {
          this.failed(dependency, `consumers stopped: ${stopped.join(', ')}`);
          return session.down({ stopped });
        }
      } else await this.moduleRef.get<DependencyProbe>(RECIPIENT_SYSTEM_PROBE, { strict: false }).probe();
      if (this.lastFailure.delete(dependency)) this.logger.log(`${dependency} is ready again`);
      return session.up({ ms: Date.now() - started });
    } catch (error) {
      this.failed(dependency, error instanceof Error ? error.message : String(error));
      return session.down();
    }
  }

  private failed(dependency: Dependency, reason: string): void {
    if (this.lastFailure.get(dependency) !== reason) this.logger.warn(`${dependency} is not ready: ${reason}`);
    this.lastFailure.set(dependency, reason);
  }
}

const LIVENESS = closedObject({ status: { const: 'ok' } }, {}, { title: 'Liveness' });
/** One dependency's check, as @nestjs/terminus reports it. */
const DEPENDENCY_CHECKS: JsonSchema = {
  type: 'object',
  description: 'By dependency (database, kafka, recipient-system)',
  additionalProperties: closedObject(
    { status: { enum: ['up', 'down'] } },
    {
      ms: { ...COUNT, description: 'How long the check took' },
      stopped: {
        type: 'array',
        items: { type: 'string' },
        description: 'kafka: the consumer groups of this app that stopped consuming (kafkajs gave up on them)',
      },
    },
  ),
};
const READINESS = closedObject(
  { status: { const: 'ok' }, info: DEPENDENCY_CHECKS, error: DEPENDENCY_CHECKS, details: DEPENDENCY_CHECKS },
  {},
  { title: 'Readiness', description: 'The report of @nestjs/terminus: every dependency of this app answered' },
);

@ApiTags('operations')
@PublicRoute()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: DependencyIndicators,
    @Inject(READINESS_DEPENDENCIES) private readonly dependencies: readonly Dependency[],
  ) {}

  /** Liveness never looks at dependencies: restarting a process does not fix its database. */
  @Get('live')
  @ApiOperation({ operationId: 'getLiveness', summary: 'Liveness' })
  @ApiAnswer(200, 'The process is running', LIVENESS)
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ operationId: 'getReadiness', summary: 'Readiness of every dependency' })
  @ApiAnswer(200, 'Every dependency of this app answers', READINESS)
  @ApiProblems([503, 'SERVICE_UNAVAILABLE: a dependency did not answer; `failed` names it, `checks` has every status; why is in the log, not here'])
  async ready(): Promise<unknown> {
    try {
      return await this.health.check(this.dependencies.map((d) => () => this.indicators.check(d)));
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const report = error.getResponse() as { error?: Record<string, unknown>; details?: unknown };
      const failed = Object.keys(report.error ?? {});
      const stopped = (report.error?.kafka as { stopped?: string[] } | undefined)?.stopped ?? [];
      const silent = failed.filter((d) => d !== 'kafka' || stopped.length === 0);
      const what = [silent.length > 0 ? `${silent.join(', ')} did not answer` : '', stopped.length > 0 ? `kafka consumers stopped: ${stopped.join(', ')}` : '']
        .filter(Boolean)
        .join('; ');
      throw new Problem('SERVICE_UNAVAILABLE', `not ready: ${what} (the reason is in this process's log)`, {
        failed,
        checks: report.details,
      });
    }
  }
}
