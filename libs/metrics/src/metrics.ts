import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import {
  AggregatorRegistry,
  Counter,
  type CounterConfiguration,
  collectDefaultMetrics,
  Gauge,
  type GaugeConfiguration,
  Histogram,
  type HistogramConfiguration,
  Registry,
} from 'prom-client';

/**
 * The Prometheus registry of one app instance (one per instance, so several apps can boot in one
 * test process), with Node's default metrics. Each lib defines its own metrics on it — through
 * `counter`, `gauge` and `histogram`, or prom-client's constructors with `registers: [registry]` —
 * and the platform serves it on `GET /metrics`.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    if (cluster.isWorker) {
      // This worker's part of the sum the primary makes (servePrimaryMetrics); constructing an
      // AggregatorRegistry is what makes prom-client answer the primary's requests.
      AggregatorRegistry.setRegistries([this.registry]);
      new AggregatorRegistry();
    }
  }

  /**
   * The Prometheus text of this app: its own registry, or, in a worker of a cluster (several
   * processes on one port, GATEWAY_WORKERS), the sum over every worker, which the primary
   * collects, so that a scrape reaching any worker counts every request.
   */
  exposition(): Promise<string> {
    if (!cluster.isWorker) return this.registry.metrics();
    const id = randomUUID();
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => done(new Error('the primary process did not send the metrics within 6 s')), 6000);
      const onMessage = (message: { type?: string; id?: string; text?: string; error?: string }) => {
        if (message?.type === METRICS_RES && message.id === id) done(message.error ? new Error(message.error) : undefined, message.text);
      };
      const done = (error?: Error, text?: string) => {
        clearTimeout(timer);
        process.off('message', onMessage);
        if (error) reject(error);
        else resolve(text ?? '');
      };
      process.on('message', onMessage);
      process.send!({ type: METRICS_REQ, id });
    });
  }

  counter<T extends string>(configuration: Omit<CounterConfiguration<T>, 'registers'>): Counter<T> {
    return new Counter({ ...configuration, registers: [this.registry] });
  }

  gauge<T extends string>(configuration: Omit<GaugeConfiguration<T>, 'registers'>): Gauge<T> {
    return new Gauge({ ...configuration, registers: [this.registry] });
  }

  histogram<T extends string>(configuration: Omit<HistogramConfiguration<T>, 'registers'>): Histogram<T> {
    return new Histogram({ ...configuration, registers: [this.registry] });
  }
}

const METRICS_REQ = 'datarun:metrics-request';
const METRICS_RES = 'datarun:metrics-response';

/**
 * In the primary of a cluster: answers each worker's request for the cluster's metrics with the
 * sum over all workers (prom-client's AggregatorRegistry: counters and histograms add up, gauges
 * per their aggregator).
 */
export function servePrimaryMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: { type?: string; id?: string }) => {
    if (message?.type !== METRICS_REQ) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: METRICS_RES, id: message.id, text }),
      (error: Error) => worker.send({ type: METRICS_RES, id: message.id, error: error.message }),
    );
  });
}
