import type { PlatformSigningKey } from '@datarun/auth';
import { DATARUN_CONFIG, type DatarunConfig } from '@datarun/config';
import { EgressClient, egressPolicyOf } from '@datarun/egress';
import { type CloudEvent, fromKafkaMessage, KafkaMessaging, MalformedEvent } from '@datarun/messaging';
import { Metrics } from '@datarun/metrics';
import { type Recipient, RecipientDirectory } from '@datarun/registry';
import { propagationHeaders, RequestContext } from '@datarun/request-context';
import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap, Optional } from '@nestjs/common';
import type { Consumer, EachMessagePayload } from '@datarun/messaging';
import type { Counter } from 'prom-client';
import { type OriginalMessage } from '../dead-letters.js';
import { type RecipientRequest, requestOf } from '../events.js';
import { DeadLetterSeal } from '../ops/dead-letter-seal.js';
import { UtilityTopics } from '../relay/utility-topics.js';
import { SIGNATURE_HEADER } from '../signed-event.js';
import { DEAD_LETTER_TOPIC, type RequestKind, topicsOf } from '../topics.js';
import { type AttemptOutcome, type DeliveryVerdict, outcomeOfError, outcomeOfStatus, withRetries } from './webhook-retries.js';
import { CLOUDEVENTS_JSON, signWebhook } from './webhook-signature.js';

/** The consumer group of one webhook recipient: its own offsets, so one recipient down holds up no other. */
export function webhookGroupOf(memberId: string): string {
  return `datarun-webhook-${memberId}`;
}

/**
 * The key the relay signs webhooks with: the platform key (DATARUN_PLATFORM_SIGNING_KEY, kid
 * DATARUN_PLATFORM_KEY_ID) whose public half the gateway serves at `GET /v1/platform/jwks`.
 * Undefined when the relay was not given it: then no webhook is delivered (unsigned, a recipient
 * could not tell datarun from anyone else), and the log says so.
 */
export const WEBHOOK_SIGNING_KEY = Symbol('WEBHOOK_SIGNING_KEY');

/** How often a delivery heartbeats its consumer while it posts and waits (the session times out after 10 s). */
const HEARTBEAT_EVERY_MS = 1000;

/** A webhook recipient being served: the consumer of its topics, for the endpoint and topics it was started with. */
interface Served {
  readonly recipient: Recipient;
  readonly shape: string;
  readonly consumer: Consumer;
  /** Cuts the waits between attempts short when the consumer stops (the message is then not committed). */
  readonly stopping: AbortController;
}

/** Why a wait ended early: the recipient's consumer is stopping; the message stays uncommitted and comes again. */
class DeliveryStopped extends Error {
  override name = 'DeliveryStopped';
}

/**
 * Webhook delivery (docs/api.md, Recipients): for every active recipient registered with
 * `delivery: webhook`, consumes its request topics (topicsOf) in a group of its own and posts each
 * request to its endpoint as a CloudEvent in structured mode, signed by the platform delivery key
 * (`datarun-signature`, webhook-signature.ts), through the egress client: the allowlist is
 * checked again on every attempt and on the addresses DNS answers, redirects are not followed and
 * nothing the endpoint answers is read beyond its status.
 *
 * 2xx commits the offset. A 4xx other than 408/429, a redirect, an endpoint the allowlist refuses
 * or a message that is no request for this recipient is dead-lettered at once (sealed by
 * datarun); 5xx, 408, 429, timeouts and connection errors are retried (webhook-retries.ts) within
 * WEBHOOK_MAX_ATTEMPTS and WEBHOOK_RETRY_BUDGET_SECONDS, heartbeating meanwhile, then
 * dead-lettered with the last reason. A replayed dead letter is delivered again. Delivery is at
 * least once: the CloudEvent id is the request id, which recipients deduplicate by.
 *
 * The recipients are re-read every WEBHOOK_REFRESH_SECONDS: one registered later is served, one
 * suspended, switched to Kafka or given another endpoint or requests has its consumer stopped
 * (and restarted for the new endpoint).
 */
@Injectable()
export class WebhookDelivery implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('WebhookDelivery');
  private readonly served = new Map<string, Served>();
  private readonly egress: EgressClient;
  private timer?: NodeJS.Timeout;
  private refreshing?: Promise<void>;
  private closed = false;
  readonly deliveries: Counter<'outcome'>;
  readonly retries: Counter<'reason'>;

  constructor(
    private readonly recipients: RecipientDirectory,
    private readonly messaging: KafkaMessaging,
    private readonly topics: UtilityTopics,
    private readonly seal: DeadLetterSeal,
    @Inject(DATARUN_CONFIG) private readonly config: DatarunConfig,
    metrics: Metrics,
    @Optional() @Inject(WEBHOOK_SIGNING_KEY) private readonly signingKey?: PlatformSigningKey,
  ) {
    this.egress = new EgressClient(egressPolicyOf(config));
    this.deliveries = metrics.counter({
      name: 'datarun_webhook_deliveries_total',
      help: 'Requests posted to recipients’ webhooks, by outcome: delivered, refused (4xx or redirect), not_allowed (egress allowlist), exhausted (attempts or budget spent), malformed',
      labelNames: ['outcome'] as const,
    });
    this.retries = metrics.counter({
      name: 'datarun_webhook_retries_total',
      help: 'Webhook attempts retried, by why: status (5xx, 408, 429), timeout, connection',
      labelNames: ['reason'] as const,
    });
  }

  onApplicationBootstrap(): void {
    if (!this.signingKey) {
      this.logger.error('no delivery signing key (DATARUN_DELIVERY_SIGNING_KEY): webhook recipients receive nothing until the relay is given it');
      return;
    }
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.config.webhooks.refreshMs);
    this.timer.unref();
  }

  /** Before Kafka closes: stop re-reading, and cut every wait between attempts short (those messages stay uncommitted). */
  async beforeApplicationShutdown(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    for (const served of this.served.values()) served.stopping.abort();
    await this.refreshing;
    this.egress.close();
  }

  /** Serves the webhook recipients registered now; one refresh at a time. Resolves when it is done (the e2e tests wait on it). */
  refresh(): Promise<void> {
    this.refreshing ??= this.reconcile()
      .catch((error: Error) => this.logger.error({ err: error }, `cannot refresh the webhook recipients, trying again: ${error.message}`))
      .finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async reconcile(): Promise<void> {
    const wanted = new Map((await this.recipients.list({ delivery: 'webhook' })).filter((r) => r.endpoint).map((r) => [r.memberId, r]));
    for (const [member, served] of this.served) {
      const recipient = wanted.get(member);
      if (recipient && shapeOf(recipient) === served.shape) continue;
      this.served.delete(member);
      served.stopping.abort();
      await this.messaging.stopConsumer(served.consumer).catch(() => undefined);
      this.logger.log(
        { member },
        `stopped delivering to ${member}'s webhook (${recipient ? 'its recipient settings changed' : 'no longer an active webhook recipient'})`,
      );
    }
    for (const [member, recipient] of wanted) {
      if (this.closed) return;
      if (this.served.has(member)) continue;
      const topics = topicsOf({ memberId: member, utilityKind: recipient.utilityKind, requests: recipient.requests });
      await this.topics.ensureNamed(topics);
      const stopping = new AbortController();
      const consumer = await this.messaging.consume({
        groupId: webhookGroupOf(member),
        topics,
        onMessage: (payload) => this.deliver(recipient, payload, stopping.signal),
      });
      this.served.set(member, { recipient, shape: shapeOf(recipient), consumer, stopping });
      this.logger.log({ member }, `delivering ${topics.join(', ')} to ${member}'s webhook`);
    }
  }

  /** One message to the recipient's endpoint: resolves once it is delivered or dead-lettered (then its offset is committed). */
  async deliver(recipient: Recipient, { topic, partition, message, heartbeat }: EachMessagePayload, stopping: AbortSignal): Promise<void> {
    const member = recipient.memberId;
    // What is posted to (the egress client drops trailing slashes) is what the signature binds.
    const endpoint = recipient.endpoint!.replace(/\/+$/, '');
    const original: OriginalMessage = { topic, key: message.key, value: message.value, headers: message.headers };
    let event: CloudEvent;
    let request: RecipientRequest;
    try {
      event = fromKafkaMessage(message);
      request = requestOf(event, recipient.requests as RequestKind[]);
      if (request.recipient !== undefined && request.recipient !== member)
        throw new MalformedEvent(`request ${request.requestId} is for ${request.recipient}, not ${member}`);
    } catch (error) {
      if (!(error instanceof MalformedEvent)) throw error;
      // datarun would vouch for whatever it signs: a message that is no request for this recipient is not posted.
      return this.deadLetter(original, `not delivered to ${member}'s webhook: ${error.message}`, 'malformed', `${topic}[${partition}]@${message.offset}`);
    }
    const body = structuredEvent(event);
    const requestId = request.requestId;
    // The group keeps this member while it posts and waits (an attempt may outlast the 10 s
    // session); a heartbeat refused because the group rebalances ends the waits, so the message
    // goes back uncommitted to whoever owns its partition next rather than being delivered twice.
    const interrupted = new AbortController();
    const abandon = () => interrupted.abort();
    stopping.addEventListener('abort', abandon, { once: true });
    const beating = setInterval(() => {
      heartbeat().catch((error: Error) => {
        this.logger.warn(
          { member, requestId },
          `heartbeat refused while delivering ${requestId} to ${member} (${error.message}); leaving it for the next owner`,
        );
        abandon();
      });
    }, HEARTBEAT_EVERY_MS);
    let verdict: DeliveryVerdict;
    try {
      verdict = await withRetries(
        (attempt) => this.attempt(endpoint, body, event, { member, requestId, attempt }),
        { maxAttempts: this.config.webhooks.maxAttempts, budgetMs: this.config.webhooks.retryBudgetMs },
        { now: () => Date.now(), random: Math.random, sleep: (ms) => waitUnlessInterrupted(ms, interrupted.signal) },
        (attempt, outcome, waitMs) => {
          this.retries.inc({ reason: outcome.status !== undefined ? 'status' : outcome.reason === 'timed out' ? 'timeout' : 'connection' });
          this.logger.warn(
            { member, requestId, attempt, statusCode: outcome.status },
            `webhook of ${member} ${outcome.reason} for request ${requestId} (attempt ${attempt}); retrying in ${waitMs} ms`,
          );
        },
      );
    } finally {
      clearInterval(beating);
      stopping.removeEventListener('abort', abandon);
    }
    if (verdict.delivered) {
      this.deliveries.inc({ outcome: 'delivered' });
      this.logger.log(
        { member, requestId, attempt: verdict.attempts, statusCode: verdict.status },
        `request ${requestId} delivered to ${member}'s webhook (${verdict.status}, attempt ${verdict.attempts})`,
      );
      return;
    }
    const outcome = verdict.reason.startsWith('ENDPOINT_NOT_ALLOWED') ? 'not_allowed' : verdict.permanent ? 'refused' : 'exhausted';
    await this.deadLetter(original, `webhook of ${member}: ${verdict.reason}`, outcome, requestId, verdict.attempts);
  }

  /** One POST: signed for this endpoint and event, at this moment; the answer's body is never read. */
  private async attempt(
    endpoint: string,
    body: string,
    event: CloudEvent,
    about: { member: string; requestId: string; attempt: number },
  ): Promise<AttemptOutcome> {
    try {
      const signature = await signWebhook(body, { endpoint, eventId: event.id }, this.signingKey!);
      const res = await this.egress.fetch(endpoint, '', {
        method: 'POST',
        headers: {
          'content-type': CLOUDEVENTS_JSON,
          [SIGNATURE_HEADER]: signature,
          // Under the request's correlation id, as the recipient's own logs may follow it.
          ...propagationHeaders(event.correlationid ?? RequestContext.correlationId()),
        },
        body,
        signal: AbortSignal.timeout(this.config.webhooks.timeoutMs),
      });
      // What a recipient answers is not ours to read or pass on: the socket is released, the status is all that counts.
      await res.body?.cancel().catch(() => undefined);
      return outcomeOfStatus(res.status, res.headers.get('retry-after'));
    } catch (error) {
      const outcome = outcomeOfError(error);
      if (outcome.kind === 'permanent') this.logger.warn({ ...about }, `webhook of ${about.member} refused for request ${about.requestId}: ${outcome.reason}`);
      return outcome;
    }
  }

  private async deadLetter(original: OriginalMessage, reason: string, outcome: string, what: string, attempts?: number): Promise<void> {
    this.logger.warn({ attempt: attempts }, `dead-lettering ${what}: ${reason}`);
    await this.messaging.publish(DEAD_LETTER_TOPIC, [await this.seal.letter(original, reason, 'relay')]);
    this.deliveries.inc({ outcome });
  }
}

/** Waits between attempts; throws when the consumer stops or lost its group meanwhile (the message then stays uncommitted). */
function waitUnlessInterrupted(ms: number, interrupted: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const stop = () => {
      clearTimeout(timer);
      reject(new DeliveryStopped('the webhook consumer is stopping or rebalancing'));
    };
    const timer = setTimeout(() => {
      interrupted.removeEventListener('abort', stop);
      resolve();
    }, ms);
    if (interrupted.aborted) return stop();
    interrupted.addEventListener('abort', stop, { once: true });
  });
}

/** What makes a recipient's consumer: a change of endpoint, requests or utility kind restarts it. */
function shapeOf(r: Recipient): string {
  return JSON.stringify([r.endpoint, [...r.requests].sort(), r.utilityKind ?? null]);
}

/**
 * The CloudEvent in structured mode (CloudEvents JSON format): the attributes the Kafka message
 * carried as `ce_*` headers, and its value as `data`. These are the bytes signed and posted.
 */
export function structuredEvent(event: CloudEvent): string {
  return JSON.stringify({
    specversion: event.specversion,
    id: event.id,
    type: event.type,
    source: event.source,
    ...(event.subject === undefined ? {} : { subject: event.subject }),
    time: event.time,
    datacontenttype: 'application/json',
    ...(event.correlationid === undefined ? {} : { correlationid: event.correlationid }),
    data: event.data,
  });
}
