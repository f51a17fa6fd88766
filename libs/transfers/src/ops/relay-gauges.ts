import { DATARUN_CONFIG, type DatarunConfig } from '@datarun/config';
import { KafkaMessaging } from '@datarun/messaging';
import { Metrics } from '@datarun/metrics';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { RELAY_STATUS_GROUP } from '../relay/status-consumer.js';
import { DEAD_LETTER_TOPIC, STATUS_TOPIC } from '../topics.js';
import { ConsumerLag } from './consumer-lag.js';
import { RELAY_DEAD_LETTER_GROUP } from './dead-letter-recorder.js';

interface OutboxSnapshot {
  backlog: number;
  oldestPendingSeconds: number;
  overdue: number;
}

/**
 * The relay's operational gauges on its `/metrics`: the outbox backlog, the age of its oldest
 * pending row, the requests overdue for follow-up, and the lag of the relay's consumer groups.
 *
 * The outbox figures are read when Prometheus scrapes, with one statement for all three (the
 * registry asks each gauge in turn; they share the statement's answer for a second). The backlog
 * and the oldest row come from the partial index `transfer_request_pending_idx`, whatever the
 * table's size. A database that does not answer leaves the gauges at their last values rather
 * than failing the scrape: readiness names the database.
 */
@Injectable()
export class RelayGauges {
  private readonly logger = new Logger('RelayGauges');
  private snapshot?: { at: number; value: Promise<OutboxSnapshot | undefined> };
  readonly backlog: Gauge;
  readonly oldestPending: Gauge;
  readonly overdue: Gauge;
  readonly lag: ConsumerLag;

  constructor(
    private readonly dataSource: DataSource,
    messaging: KafkaMessaging,
    @Inject(DATARUN_CONFIG) private readonly config: DatarunConfig,
    metrics: Metrics,
  ) {
    const registers = [metrics.registry];
    this.backlog = new Gauge({
      name: 'datarun_outbox_backlog',
      help: 'Utility requests in the outbox not yet acknowledged by Kafka (state pending)',
      registers,
      collect: async () => this.set(this.backlog, (s) => s.backlog),
    });
    this.oldestPending = new Gauge({
      name: 'datarun_outbox_oldest_pending_seconds',
      help: 'Age of the oldest pending outbox row in seconds (0 when the outbox is empty)',
      registers,
      collect: async () => this.set(this.oldestPending, (s) => s.oldestPendingSeconds),
    });
    this.overdue = new Gauge({
      name: 'datarun_transfers_overdue',
      help: 'Utility requests neither completed nor rejected whose last change is older than the follow-up time (TRANSFER_FOLLOW_UP_SECONDS)',
      registers,
      collect: async () => this.set(this.overdue, (s) => s.overdue),
    });
    this.lag = new ConsumerLag(messaging, metrics.registry, [
      { groupId: RELAY_STATUS_GROUP, topic: STATUS_TOPIC },
      { groupId: RELAY_DEAD_LETTER_GROUP, topic: DEAD_LETTER_TOPIC },
    ]);
  }

  private async set(gauge: Gauge, pick: (s: OutboxSnapshot) => number): Promise<void> {
    const snapshot = await this.read();
    if (snapshot) gauge.set(pick(snapshot));
  }

  private read(): Promise<OutboxSnapshot | undefined> {
    if (!this.snapshot || Date.now() - this.snapshot.at > 1000) {
      this.snapshot = { at: Date.now(), value: this.query() };
    }
    return this.snapshot.value;
  }

  private async query(): Promise<OutboxSnapshot | undefined> {
    try {
      // `ORDER BY seq LIMIT 1` walks the partial index; min(created_at) would read every pending row.
      // The overdue count has no index of its own yet, so it reads the table: cheap for thousands
      // of requests; a partial index on updated_at for the open states keeps it so at millions.
      const [row]: Array<{ backlog: string; oldest: string | null; overdue: string }> = await this.dataSource.query(
        `SELECT (SELECT count(*) FROM transfer_request WHERE state = 'pending') AS backlog,
                (SELECT extract(epoch FROM now() - created_at) FROM transfer_request WHERE state = 'pending' ORDER BY seq LIMIT 1) AS oldest,
                (SELECT count(*) FROM transfer_request
                  WHERE state IN ('pending', 'published', 'accepted') AND updated_at < now() - make_interval(secs => $1)) AS overdue`,
        [this.config.transfers.followUpSeconds],
      );
      return { backlog: Number(row.backlog), oldestPendingSeconds: Math.max(0, Number(row.oldest ?? 0)), overdue: Number(row.overdue) };
    } catch (error) {
      this.logger.debug(`outbox gauges not read, they keep their last values: ${(error as Error).message}`);
      return undefined;
    }
  }
}
