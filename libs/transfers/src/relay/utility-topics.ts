import { DATARUN_CONFIG, type DatarunConfig } from '@datarun/config';
import { KafkaMessaging } from '@datarun/messaging';
import { MattersService } from '@datarun/registry';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DEAD_LETTER_TOPIC, requestTopic, STATUS_TOPIC, topicSpec } from '../topics.js';

/**
 * Creates the topics the registered matters route to (docs/api.md: "utility topics when a matter names
 * them"), plus the status and dead-letter topics, with the project's partitions and configs. The
 * registry stays free of Kafka (its readiness is the database alone), so the relay does this at
 * boot and then every few seconds; a new matter's topics exist within one period of its
 * registration, before any case of it can complete in practice.
 */
@Injectable()
export class UtilityTopics {
  private readonly logger = new Logger('UtilityTopics');
  private readonly known = new Set<string>();

  constructor(
    private readonly matters: MattersService,
    private readonly messaging: KafkaMessaging,
    @Inject(DATARUN_CONFIG) private readonly config: DatarunConfig,
  ) {}

  /** Ensures every topic routed to by a matter exists; returns the topics created or confirmed. */
  async ensure(): Promise<string[]> {
    const routes = await this.matters.routes();
    const topics = [STATUS_TOPIC, DEAD_LETTER_TOPIC, ...routes.map((r) => requestTopic(r.notify, r.request))];
    await this.ensureNamed(topics);
    return topics;
  }

  /** Creates these topics unless this process already knows they exist (the relay calls it before each send). */
  async ensureNamed(topics: readonly string[]): Promise<void> {
    const missing = [...new Set(topics)].filter((t) => !this.known.has(t));
    if (missing.length > 0) {
      await this.messaging.ensureTopics(missing.map((t) => topicSpec(t, this.config.transfers.topicPartitions)));
      for (const t of missing) this.known.add(t);
      this.logger.log(`topics ready: ${missing.join(', ')}`);
    }
  }
}
