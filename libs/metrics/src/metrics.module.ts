import { type DynamicModule, Module } from '@nestjs/common';
import { Metrics } from './metrics.js';

/** The app's one Metrics, global: every lib's providers inject it to define their metrics. */
@Module({})
export class MetricsModule {
  static forRoot(): DynamicModule {
    return { module: MetricsModule, global: true, providers: [Metrics], exports: [Metrics] };
  }
}
