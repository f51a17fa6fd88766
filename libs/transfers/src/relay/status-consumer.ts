import { type CloudEvent, correlationIdOfMessage, fromKafkaMessage, KafkaMessaging, MalformedEvent } from '@datarun/messaging';
import { Metrics } from '@datarun/metrics';
import { MemberKeyDirectory } from '@datarun/registry';
import { RequestContext } from '@datarun/request-context';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { KafkaMessage } from '@datarun/messaging';
import { Counter } from 'prom-client';
import { headerText, type OriginalMessage } from '../dead-letters.js';
import { type TransferStatus, transferStatusOf } from '../events.js';
import { DeadLetterSeal } from '../ops/dead-letter-seal.js';
import { SIGNATURE_HEADER, verifyEventSignature } from '../signed-event.js';
import { type EstablishedStatus, type RequestAddressee, RequestStatuses } from '../statuses/request-statuses.js';
import { DEAD_LETTER_TOPIC, STATUS_TOPIC } from '../topics.js';
import { UtilityTopics } from './utility-topics.js';

export const RELAY_STATUS_GROUP = 'datarun-relay-status';

/** The dead-letter reason of a status not signed by its request's recipient (docs/api.md). */
export const STATUS_SIGNATURE_INVALID = 'STATUS_SIGNATURE_INVALID';

/** A status that may not change anything: not signed by its request's recipient. */
class RefusedStatus extends Error {
  override name = 'RefusedStatus';
}

/**
 * Status back to the case: consumes `datarun.utility.transfer-status.v1` and moves each request
 * forward through RequestStatuses (the one way a status moves a request, shared with the HTTP
 * answer of webhook recipients), audited under the member that signed it.
 *
 * Nothing unsigned changes state (docs/security.md): a status must carry `datarun-signature`, a
 * detached JWS over its body by a registered key of the request's recipient member (resolved when
 * its case completed), bound to this topic, that member as `ce_source` and the request id as key.
 * Anyone else's status — unsigned, signed by another member, naming another recipient, or moved
 * from another topic or request — is dead-lettered with `STATUS_SIGNATURE_INVALID` and changes
 * nothing. A status that is malformed or names no known request is dead-lettered with the reason
 * too, and the consumer carries on; so is one holding U+0000, which PostgreSQL cannot store
 * (refused as malformed when read, assertEventBody): in the batch's transaction it would fail the
 * whole batch on every redelivery.
 */
@Injectable()
export class StatusConsumer implements OnApplicationBootstrap {
  private readonly logger = new Logger('StatusConsumer');
  readonly applied: Counter;
  readonly deadLettered: Counter;

  constructor(
    private readonly messaging: KafkaMessaging,
    private readonly topics: UtilityTopics,
    private readonly statuses: RequestStatuses,
    private readonly keys: MemberKeyDirectory,
    private readonly seal: DeadLetterSeal,
    metrics: Metrics,
  ) {
    this.applied = new Counter({
      name: 'datarun_relay_statuses_total',
      help: 'Recipient statuses consumed, by whether they moved the request',
      labelNames: ['effect'] as const,
      registers: [metrics.registry],
    });
    this.deadLettered = new Counter({ name: 'datarun_relay_status_dead_letters_total', help: 'Statuses dead-lettered', registers: [metrics.registry] });
  }

  onApplicationBootstrap(): Promise<void> {
    return this.messaging.keepStarting(`consuming ${STATUS_TOPIC}`, async () => {
      await this.topics.ensure();
      await this.messaging.consumeBatches({ groupId: RELAY_STATUS_GROUP, topics: [STATUS_TOPIC], onBatch: (b) => this.handleBatch(b) });
    });
  }

  /**
   * One fetched batch of a partition: each status moves its request in order, and all of them are
   * audited, in one transaction (one commit, one audit chain lock per batch rather than per
   * status, which is what kept statuses behind under load).
   */
  async handleBatch({ topic, partition, messages }: { topic: string; partition: number; messages: KafkaMessage[] }): Promise<void> {
    const original = (message: KafkaMessage): OriginalMessage => ({ topic, key: message.key, value: message.value, headers: message.headers });
    const parsed: Array<{ message: KafkaMessage; event: CloudEvent; status: TransferStatus }> = [];
    for (const message of messages) {
      try {
        const event = fromKafkaMessage(message);
        parsed.push({ message, event, status: transferStatusOf(event) });
      } catch (error) {
        if (!(error instanceof MalformedEvent)) throw error;
        await this.reject(original(message), error.message, partition, message.offset);
      }
    }
    if (parsed.length === 0) return;
    const addressees = await this.statuses.addresseesOf(parsed.map((p) => p.status.requestId));
    // A batch holds many requests' statuses: each keeps its own correlation id (the request's,
    // carried back by the connector) for its audit record, rather than one context for the batch.
    const valid: Array<EstablishedStatus & { message: KafkaMessage }> = [];
    for (const { message, event, status } of parsed) {
      const addressee = addressees.get(status.requestId);
      if (addressee === undefined) {
        await this.reject(original(message), `status for unknown request ${status.requestId}`, partition, message.offset);
        continue;
      }
      try {
        const signedAt = await this.signedBy(addressee, topic, message, event, status);
        valid.push({ status, source: addressee.recipient, actor: 'connector', signedAt, correlationId: correlationIdOfMessage(message), message });
      } catch (error) {
        if (!(error instanceof RefusedStatus)) throw error;
        await this.reject(original(message), error.message, partition, message.offset);
      }
    }
    const effects = await this.statuses.apply(valid);
    for (const [i, outcome] of effects.entries()) {
      const { status, signedAt, message } = valid[i];
      if (outcome.effect === 'stale') {
        await this.reject(
          original(message),
          `${STATUS_SIGNATURE_INVALID}: signed at ${signedAt.toISOString()}, before request ${status.requestId} was sent again at ${outcome.resentAt.toISOString()}: an old status does not answer the new send`,
          partition,
          message.offset,
        );
      } else if (outcome.effect === 'unknown') {
        await this.reject(original(message), `status for unknown request ${status.requestId}`, partition, message.offset);
      } else this.applied.inc({ effect: outcome.effect });
    }
  }

  /**
   * When the request's recipient signed this status; throws RefusedStatus (STATUS_SIGNATURE_INVALID)
   * when anyone else did, or when the status names another recipient or utility than its request's.
   */
  private async signedBy(addressee: RequestAddressee, topic: string, message: KafkaMessage, event: CloudEvent, status: TransferStatus): Promise<Date> {
    const refuse = (detail: string) => new RefusedStatus(`${STATUS_SIGNATURE_INVALID}: ${detail}`);
    const { recipient } = addressee;
    if (event.source !== recipient) {
      throw refuse(`ce_source ${JSON.stringify(event.source.slice(0, 128))} is not ${JSON.stringify(recipient)}, the recipient of request ${status.requestId}`);
    }
    if (status.recipient !== undefined && status.recipient !== recipient) throw refuse(`the status names recipient ${status.recipient}, not ${recipient}`);
    if (status.utility !== undefined && addressee.utility !== null && status.utility !== addressee.utility) {
      throw refuse(`the status names utility ${status.utility}, the request was for ${addressee.utility}`);
    }
    const key = message.key?.toString('utf8') ?? '';
    const check = await verifyEventSignature(
      message.value ?? Buffer.alloc(0),
      headerText(message.headers, SIGNATURE_HEADER),
      { topic, source: recipient, subject: key },
      this.keys,
    );
    if (!check.ok) throw refuse(check.reason);
    return check.signedAt;
  }

  /** Dead-letters one status (sealed by datarun), its log line under the status's own correlation id. */
  private reject(original: OriginalMessage, reason: string, partition: number, offset: string): Promise<void> {
    return RequestContext.run(correlationIdOfMessage(original), async () => {
      this.logger.warn(`dead-lettering ${original.topic}[${partition}]@${offset}: ${reason}`);
      await this.messaging.publish(DEAD_LETTER_TOPIC, [await this.seal.letter(original, reason, 'relay')]);
      this.deadLettered.inc();
    });
  }
}
