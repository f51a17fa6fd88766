import { DatabaseConnection } from '@datarun/db';
import { KafkaMessaging } from '@datarun/messaging';
import { Problem } from '@datarun/problems';
import { applyDecorators, Controller, Get, Inject, Injectable, SetMetadata, ServiceUnavailableException } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiAnswer, closedObject, COUNT, type JsonSchema, STRING } from './api-answers.js';
import { ApiProblems } from './api-problems.js';
import { HealthCheckService, type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';

export type Dependency = 'database' | 'kafka' | 'utility-system';

/** What an app provides under UTILITY_SYSTEM_PROBE when it depends on a utility's own system. */
export interface DependencyProbe {
  probe(): Promise<unknown>;
}
export const UTILITY_SYSTEM_PROBE = Symbol('UTILITY_SYSTEM_PROBE');

/**
 * Marks a controller or handler that needs no token (probes, metrics, signed links), for the auth
 * guard and in the OpenAPI document (an empty security requirement: no credentials).
 */
export const PUBLIC_ROUTE = 'datarun:public-route';
export const PublicRoute = () => applyDecorators(SetMetadata(PUBLIC_ROUTE, true), ApiSecurity({}));
export const READINESS_DEPENDENCIES = Symbol('READINESS_DEPENDENCIES');

@Injectable()
export class DependencyIndicators {
  constructor(
    private readonly indicator: HealthIndicatorService,
    private readonly moduleRef: ModuleRef,
  ) {}

  async check(dependency: Dependency): Promise<HealthIndicatorResult> {
    const session = this.indicator.check(dependency);
    const started = Date.now();
    try {
      if (dependency === 'database') await this.moduleRef.get(DatabaseConnection, { strict: false }).check();
      else if (dependency === 'kafka') await this.moduleRef.get(KafkaMessaging, { strict: false }).ping();
      else await this.moduleRef.get<DependencyProbe>(UTILITY_SYSTEM_PROBE, { strict: false }).probe();
      return session.up({ ms: Date.now() - started });
    } catch (error) {
      return session.down({ message: error instanceof Error ? error.message : String(error) });
    }
  }
}

const LIVENESS = closedObject({ status: { const: 'ok' } }, {}, { title: 'Liveness' });
/** One dependency's check, as @nestjs/terminus reports it. */
const DEPENDENCY_CHECKS: JsonSchema = {
  type: 'object',
  description: 'By dependency (database, kafka, utility-system)',
  additionalProperties: closedObject({ status: { enum: ['up', 'down'] } }, { ms: { ...COUNT, description: 'How long the check took' }, message: STRING }),
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
  @ApiProblems([503, 'SERVICE_UNAVAILABLE: a dependency did not answer; `failed` names it, `checks` has every report'])
  async ready(): Promise<unknown> {
    try {
      return await this.health.check(this.dependencies.map((d) => () => this.indicators.check(d)));
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const report = error.getResponse() as { error?: Record<string, { message?: string }>; details?: unknown };
      const failed = Object.keys(report.error ?? {});
      const reasons = failed.map((d) => `${d}: ${report.error?.[d]?.message ?? 'down'}`).join('; ');
      throw new Problem('SERVICE_UNAVAILABLE', `not ready, ${reasons}`, { failed, checks: report.details });
    }
  }
}
