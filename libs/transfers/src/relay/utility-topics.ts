import { DATARUN_CONFIG, type DatarunConfig } from '@datarun/config';
import { KafkaMessaging } from '@datarun/messaging';
import { RecipientDirectory } from '@datarun/registry';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DEAD_LETTER_TOPIC, STATUS_TOPIC, topicSpec, topicsOf } from '../topics.js';

/**
 * Creates the topics of every registered recipient (docs/api.md, Recipients), plus the status and
 * dead-letter topics, with the project's partitions and configs. The registry stays free of Kafka
 * (its readiness is the database alone), so the relay does this at boot and then every few
 * seconds; a new recipient's topics exist within one period of its registration, and the relay
 * makes a topic it is about to publish to in any case (ensureNamed).
 */
@Injectable()
export class UtilityTopics {
  private readonly logger = new Logger('UtilityTopics');
  private readonly known = new Set<string>();

  constructor(
    private readonly recipients: RecipientDirectory,
    private readonly messaging: KafkaMessaging,
    @Inject(DATARUN_CONFIG) private readonly config: DatarunConfig,
  ) {}

  /** Ensures every recipient's topics exist; returns the topics created or confirmed. */
  async ensure(): Promise<string[]> {
    const recipients = await this.recipients.list();
    const topics = [STATUS_TOPIC, DEAD_LETTER_TOPIC, ...recipients.flatMap((r) => topicsOf(r))];
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
