import { type KeyNeeds, KeyRing, loadKeys } from '@datarun/auth';
import { type AppName, DATARUN_CONFIG, type DatarunConfig } from '@datarun/config';
import { DbModule } from '@datarun/db';
import { MessagingModule } from '@datarun/messaging';
import { MetricsModule } from '@datarun/metrics';
import { type DynamicModule, Module, RequestMethod } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import { DependencyIndicators, type Dependency, HealthController, READINESS_DEPENDENCIES } from './health.js';
import { requestLogging } from './logging.js';
import { HttpMetrics, MetricsController } from './metrics.js';
import { ProblemFilter } from './problem-filter.js';

export interface PlatformOptions {
  readonly app: AppName | `connector-${string}`;
  /** What /health/ready checks for this app, and which connections it opens. */
  readonly dependencies: readonly Dependency[];
  /**
   * The platform keys this app uses (KeyRing, global): read and checked once, when the app is
   * created and before it listens — a factory, so that the OpenAPI preview needs no keys.
   */
  readonly keys?: KeyNeeds;
  /**
   * Routes (`POST /v1/lookups`) whose every request the audit log records: their successful
   * requests are logged at debug, not info, so the hot path writes no line per request (refusals
   * and failures are still logged at info and above).
   */
  readonly auditedRoutes?: readonly string[];
  /** Media types taken as raw bytes (a Buffer body) up to `limit` bytes, e.g. uploaded materials. */
  readonly binaryBodies?: { readonly types: readonly string[]; readonly limit: number };
}

export const PLATFORM_OPTIONS = Symbol('PLATFORM_OPTIONS');

@Module({})
export class PlatformModule {
  static forRoot(config: DatarunConfig, options: PlatformOptions): DynamicModule {
    const needs = (d: Dependency) => options.dependencies.includes(d);
    return {
      module: PlatformModule,
      global: true,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: requestLogging(options.app, config.logLevel, options.auditedRoutes),
          forRoutes: [{ path: '{*splat}', method: RequestMethod.ALL }],
        }),
        TerminusModule.forRoot({ logger: false }),
        MetricsModule.forRoot(),
        // Only the audit app's role may insert signed checkpoints (docs/security.md).
        ...(needs('database') ? [DbModule.forRoot(config, options.app === 'audit' ? 'audit' : 'app')] : []),
        ...(needs('kafka') ? [MessagingModule.forRoot(config)] : []),
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: DATARUN_CONFIG, useValue: config },
        { provide: KeyRing, useFactory: () => loadKeys(config, options.keys ?? {}, options.app) },
        { provide: READINESS_DEPENDENCIES, useValue: options.dependencies },
        { provide: PLATFORM_OPTIONS, useValue: options },
        { provide: APP_FILTER, useClass: ProblemFilter },
        DependencyIndicators,
        HttpMetrics,
      ],
      exports: [DATARUN_CONFIG, KeyRing, ...(needs('database') ? [DbModule] : [])],
    };
  }
}
