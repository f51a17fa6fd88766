import { Metrics } from '@datarun/metrics';
import { Controller, Get, Header, Injectable } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Histogram } from 'prom-client';
import { ApiAnswer } from './api-answers.js';
import { PublicRoute } from './route-options.js';

/** The platform's own metric: every request's duration by route and status code. */
@Injectable()
export class HttpMetrics {
  readonly duration: Histogram<'method' | 'route' | 'code'>;

  constructor(metrics: Metrics) {
    this.duration = metrics.histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route and status code',
      labelNames: ['method', 'route', 'code'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    });
  }
}

@ApiTags('operations')
@PublicRoute()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  @Get()
  @ApiOperation({ operationId: 'getMetrics', summary: 'Prometheus metrics' })
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiAnswer(200, 'Prometheus text exposition format 0.0.4', { type: 'string' }, 'text/plain')
  async scrape(): Promise<string> {
    return this.metrics.exposition();
  }
}
