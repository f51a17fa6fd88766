import { DatabaseConnection } from '@datarun/db';
import { KafkaMessaging } from '@datarun/messaging';
import { Problem } from '@datarun/problems';
import { applyDecorators, Controller, Get, Inject, Injectable, SetMetadata, ServiceUnavailableException } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ApiOkResponse, ApiOperation, ApiSecurity, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
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
  @ApiOkResponse({ description: 'The process is running' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ operationId: 'getReadiness', summary: 'Readiness of every dependency' })
  @ApiOkResponse({ description: 'Every dependency of this app answers' })
  @ApiServiceUnavailableResponse({ description: 'problem+json SERVICE_UNAVAILABLE naming the failed dependencies in `failed`' })
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
