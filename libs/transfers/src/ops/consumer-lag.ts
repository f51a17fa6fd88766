import type { KafkaMessaging } from '@datarun/messaging';
import { Logger } from '@nestjs/common';
import type { Admin } from '@datarun/messaging';
import { Gauge, type Registry } from 'prom-client';

/** One consumer group reading one topic, by the names in docs/api.md (KafkaMessaging adds any KAFKA_TOPIC_PREFIX). */
export interface LagSubscription {
  readonly groupId: string;
  readonly topic: string;
}

export interface ConsumerLagOptions {
  /** Lag is computed on a scrape at most this often; scrapes in between reuse the last answer. */
  readonly cacheMs?: number;
  /** A scrape waits at most this long for Kafka, then answers with what it had. */
  readonly timeoutMs?: number;
}

export const CONSUMER_LAG_METRIC = 'datarun_kafka_consumer_lag';

/**
 * `datarun_kafka_consumer_lag{group,topic}`: messages on the topic that the group has not
 * committed yet (end offsets minus committed offsets, summed over partitions). A partition the
 * group never committed on counts everything still retained there (high minus low watermark),
 * which is what that group would have to read.
 *
 * Computed when Prometheus scrapes, not on a timer, so an app nobody scrapes asks Kafka nothing;
 * cached for `cacheMs` so that several scrapers or a fast scrape interval cost one pair of admin
 * calls per period. A scrape never fails or hangs because of Kafka: when the broker does not
 * answer within `timeoutMs`, the gauge keeps its last values (stale, or none yet) and the failure
 * is logged at debug level only, since readiness already names a Kafka outage.
 *
 * One instance per metrics registry (the metric name can be registered once); list every group
 * of the app in `subscriptions`. Labels carry the names in docs/api.md, without the deployment's prefix.
 */
export class ConsumerLag {
  private readonly logger = new Logger('ConsumerLag');
  private readonly cacheMs: number;
  private readonly timeoutMs: number;
  private refreshedAt = 0;
  private refreshing?: Promise<void>;
  readonly gauge: Gauge<'group' | 'topic'>;

  constructor(
    private readonly messaging: KafkaMessaging,
    registry: Registry,
    private readonly subscriptions: readonly LagSubscription[],
    options: ConsumerLagOptions = {},
  ) {
    this.cacheMs = options.cacheMs ?? 5000;
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.gauge = new Gauge({
      name: CONSUMER_LAG_METRIC,
      help: 'Messages not yet committed by a consumer group, per topic (end offsets minus committed offsets)',
      labelNames: ['group', 'topic'] as const,
      registers: [registry],
      collect: () => this.refreshIfStale(),
    });
  }

  /** Brings the gauge up to date unless it is fresh; never rejects. */
  async refreshIfStale(): Promise<void> {
    if (Date.now() - this.refreshedAt < this.cacheMs) return;
    // Concurrent scrapes share one refresh instead of each asking Kafka.
    this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = undefined;
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.logger.debug(`consumer lag: no answer from Kafka within ${this.timeoutMs} ms; the gauge keeps its last values`);
        resolve();
      }, this.timeoutMs);
      timer.unref();
    });
    await Promise.race([this.refreshing, timeout]);
    clearTimeout(timer);
  }

  /** The lag of every subscription now, straight from Kafka (throws when Kafka does not answer). */
  async measure(): Promise<Map<LagSubscription, number>> {
    const admin = this.messaging.admin();
    await admin.connect();
    try {
      const lags = new Map<LagSubscription, number>();
      for (const s of this.subscriptions) lags.set(s, await lagOf(admin, this.messaging.physical(s.groupId), this.messaging.physical(s.topic)));
      return lags;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private async refresh(): Promise<void> {
    try {
      for (const [s, lag] of await this.measure()) this.gauge.set({ group: s.groupId, topic: s.topic }, lag);
      this.refreshedAt = Date.now();
    } catch (error) {
      // Not refreshedAt: the next scrape tries again rather than waiting out the cache period.
      this.logger.debug(`consumer lag not measured, the gauge keeps its last values: ${(error as Error).message}`);
    }
  }
}

async function lagOf(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  const committedBy = new Map((committed.find((t) => t.topic === topic)?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  let lag = 0;
  for (const p of ends) {
    const done = committedBy.get(p.partition) ?? -1;
    // -1: the group has no commit on this partition yet; what it would read is what is retained.
    lag += Math.max(0, Number(p.high) - (done < 0 ? Number(p.low) : done));
  }
  return lag;
}
