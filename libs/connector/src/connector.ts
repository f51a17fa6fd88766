import { createHash } from 'node:crypto';
import type { MemberSigningKey } from '@datarun/auth';
import { type ConnectorMember, DATARUN_CONFIG, type DatarunConfig } from '@datarun/config';
import { type CloudEvent, fromKafkaMessage, KafkaMessaging, MalformedEvent, toKafkaMessage } from '@datarun/messaging';
import { Metrics } from '@datarun/metrics';
import { propagationHeaders, RequestContext } from '@datarun/request-context';
import {
  APPLIED_MATERIAL_MAX_BYTES,
  APPLIED_MATERIALS_MAX,
  assertEventBody,
  ConsumerLag,
  DEAD_LETTER_TOPIC,
  deadLetter,
  EVENT_TYPES,
  isMaterialLinkOf,
  memberSealer,
  type OriginalMessage,
  type RecipientRequest,
  type RecipientRoute,
  requestOf,
  type RequestKind,
  sealedDeadLetter,
  signedEventMessage,
  STATUS_TOPIC,
  statusEvent,
  topicFor,
  topicSpec,
  topicsOf,
  type TransferStatus,
} from '@datarun/transfers';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Consumer, EachMessagePayload } from 'kafkajs';
import { Counter } from 'prom-client';
import { ConnectorInbox, type Outcome } from './inbox.js';
import { MemberTokens } from './member-tokens.js';
import { RECIPIENT_SYSTEM, RecipientRefusal, type ReceivedMaterial, type RecipientSystem, TransientFailure } from './recipient-system.js';

/** `type/subtype` of a content-type header, without its parameters; undefined when it names none. */
function mediaTypeOf(header: string | null): string | undefined {
  const media = header?.split(';')[0]?.trim().toLowerCase();
  return media && /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/.test(media) ? media : undefined;
}

/** A message that will never succeed as it is (broken material, bad link): dead-lettered at once. */
class PoisonMessage extends Error {
  override name = 'PoisonMessage';
}

/** What a member receives for: everything for a utility kind's recipient, benefits for any other. */
export function requestsOf(member: Pick<ConnectorMember, 'utilityKind'>): RequestKind[] {
  return member.utilityKind ? ['transfer', 'discount', 'benefit'] : ['benefit'];
}

export const CONNECTOR_OPTIONS = Symbol('CONNECTOR_OPTIONS');
export interface ConnectorOptions {
  readonly member: ConnectorMember;
  /**
   * The member's private key (CONNECTOR_MEMBER_KEY), loaded once at boot; undefined in
   * development and test when there is no key file (statuses then go out unsigned, and the relay
   * dead-letters them; material fetches carry no token, and the gateway refuses them).
   */
  readonly signer: MemberSigningKey | undefined;
  /** Exit the process when kafkajs gives up on the consumer, so a supervisor restarts it. */
  readonly exitOnCrash: boolean;
}

/** Tries of one message that fails for an unclassified reason before it is dead-lettered. */
const MAX_ATTEMPTS = 5;
const TRANSIENT_BACKOFF_MS = [200, 500, 1000, 2000, 5000, 5000];

/**
 * The connector a recipient runs: its request topics -> its own system -> the status topic.
 *
 * Uses kafkajs through KafkaMessaging rather than @nestjs/microservices' Kafka transport: the
 * transport fixes topics by decorator at build time (ours come from the member and the prefix),
 * runs a second Kafka client beside the process's one, and gives no hook for the crash event we
 * exit on; its commit-after-handler semantics are what `consume` already gives.
 *
 * Exactly once in the recipient's system: the inbox (its own SQLite file: the processed request
 * ids, with their outcome) is written after the work and before the offset is committed, so a
 * redelivery finds it and is skipped (its status is sent again, which heals a lost status). A
 * crash between the system applying and the inbox write is closed by the system's own
 * idempotency key. A rejection answers one send (told by the event's correlation id): a resend of
 * the request from its case, after its cause was fixed, is applied again (ConnectorInbox). Nothing here needs datarun's database: a partner runs this next to its system.
 *
 * Every material is fetched under a token of the member (the gateway serves a link to its
 * recipient only); every status goes out as the member (`ce_source`) and signed with its key,
 * which is what the relay needs to apply it; every dead letter is sealed with the same key, which
 * is what an operator needs to replay it (docs/security.md).
 */
@Injectable()
export class Connector implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Connector');
  private readonly member: ConnectorMember;
  private readonly route: RecipientRoute & { readonly requests: readonly RequestKind[] };
  /** Names this process on its dead letters (`datarun-dlq-by`). */
  private readonly source: string;
  private readonly tokens: MemberTokens | undefined;
  private readonly attempts = new Map<string, number>();
  private consumer: Consumer | undefined;
  readonly topics: readonly string[];
  readonly outcomes: Counter;
  readonly duplicates: Counter;
  readonly deadLetters: Counter;
  /** How far behind this recipient is, on /metrics for each of its request topics. */
  readonly lag: ConsumerLag;

  constructor(
    private readonly messaging: KafkaMessaging,
    private readonly inbox: ConnectorInbox,
    @Inject(RECIPIENT_SYSTEM) private readonly system: RecipientSystem,
    @Inject(DATARUN_CONFIG) private readonly config: DatarunConfig,
    @Inject(CONNECTOR_OPTIONS) private readonly options: ConnectorOptions,
    metrics: Metrics,
  ) {
    this.member = options.member;
    this.route = { memberId: this.member.id, utilityKind: this.member.utilityKind, requests: requestsOf(this.member) };
    this.topics = topicsOf(this.route);
    this.source = `datarun.connector.${this.member.id}`;
    this.tokens = options.signer ? new MemberTokens(options.signer) : undefined;
    this.outcomes = new Counter({
      name: 'datarun_connector_requests_total',
      help: 'Requests applied, by outcome',
      labelNames: ['outcome'] as const,
      registers: [metrics.registry],
    });
    this.duplicates = new Counter({
      name: 'datarun_connector_inbox_duplicates_total',
      help: 'Redelivered requests the inbox recognised and skipped',
      registers: [metrics.registry],
    });
    this.deadLetters = new Counter({ name: 'datarun_connector_dead_letters_total', help: 'Requests dead-lettered', registers: [metrics.registry] });
    this.lag = new ConsumerLag(
      messaging,
      metrics.registry,
      this.topics.map((topic) => ({ groupId: this.groupId, topic })),
    );
  }

  get groupId(): string {
    return `datarun-connector-${this.member.id}`;
  }

  onApplicationBootstrap(): Promise<void> {
    return this.messaging.keepStarting(`consuming ${this.topics.join(', ')}`, async () => {
      const partitions = this.config.transfers.topicPartitions;
      await this.messaging.ensureTopics([...this.topics, STATUS_TOPIC, DEAD_LETTER_TOPIC].map((t) => topicSpec(t, partitions)));
      this.consumer = await this.messaging.consume({
        groupId: this.groupId,
        topics: this.topics,
        onMessage: (p) => this.handle(p),
        commitEvery: this.config.connector.commit,
        onCrash: this.options.exitOnCrash ? () => process.exit(70) : undefined,
      });
      this.logger.log(`consuming ${this.topics.join(', ')} as ${this.groupId}, applying to ${this.member.systemUrl}, inbox ${this.inbox.path}`);
      if (!this.options.signer)
        this.logger.warn(
          `no key file for ${this.member.id} (CONNECTOR_MEMBER_KEY): statuses go out unsigned and the relay will refuse them; material fetches carry no token`,
        );
    });
  }

  /** Stops consuming (committing what the inbox holds) before the inbox closes. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.consumer) await this.messaging.stopConsumer(this.consumer);
  }

  onApplicationShutdown(): void {
    this.inbox.close();
  }

  /** One request, in the request context `consume` entered for it (the event's `ce_correlationid`). */
  async handle({ topic, partition, message, heartbeat }: EachMessagePayload): Promise<void> {
    const original = { topic, key: message.key, value: message.value, headers: message.headers };
    let request: RecipientRequest;
    let send: string | null;
    try {
      const event = fromKafkaMessage(message);
      request = this.requestOf(topic, event);
      send = event.correlationid ?? null;
    } catch (error) {
      if (error instanceof MalformedEvent) return this.deadLetter(original, error.message, `${partition}@${message.offset}`);
      throw error;
    }

    const seen = this.inbox.redelivered(request.requestId, send);
    if (seen) {
      this.duplicates.inc();
      return this.publishStatus(seen, request);
    }

    let outcome: Outcome;
    try {
      await this.publishStatus(undefined, request);
      const materials = await this.fetchMaterials(request, heartbeat);
      const { reference } = await this.retryTransient(() => this.system.apply(request, materials), heartbeat);
      outcome = { state: 'completed', reference };
    } catch (error) {
      if (error instanceof RecipientRefusal) outcome = { state: 'rejected', reason: error.message };
      else if (error instanceof PoisonMessage) return this.deadLetter(original, error.message, request.requestId);
      else if (error instanceof TransientFailure)
        throw error; // redelivered by kafkajs after its backoff; never dead-lettered
      else return this.bounded(original, request.requestId, error as Error);
    }
    this.inbox.record(request.requestId, outcome, send);
    this.attempts.delete(request.requestId);
    this.outcomes.inc({ outcome: outcome.state });
    await this.publishStatus(outcome, request);
  }

  /**
   * The request a message carries, of a kind its topic carries, addressed to this member: one for
   * another recipient (or another utility kind) on this member's topics is malformed.
   */
  private requestOf(topic: string, event: CloudEvent): RecipientRequest {
    const accepted = this.route.requests.filter((kind) => topicFor(this.route, kind) === topic);
    if (accepted.length === 0) throw new MalformedEvent(`topic ${topic} is not one of this connector's`);
    const request = requestOf(event, accepted);
    if (request.recipient !== undefined && request.recipient !== this.member.id) {
      throw new MalformedEvent(`request ${request.requestId} is for ${request.recipient}, this connector receives for ${this.member.id}`);
    }
    if (request.request !== 'benefit' && request.utility !== this.member.utilityKind) {
      throw new MalformedEvent(
        `request ${request.requestId} is for ${request.utility}, this connector receives for ${this.member.utilityKind ?? 'no utility kind'}`,
      );
    }
    return request;
  }

  /**
   * Fetches each material through its signed link, under the member's token, and checks its
   * SHA-256 before anything is applied: what the recipient's system receives are these verified
   * bytes, with their media type.
   */
  private async fetchMaterials(request: RecipientRequest, heartbeat: () => Promise<void>): Promise<ReceivedMaterial[]> {
    if (request.materials.length > APPLIED_MATERIALS_MAX) {
      throw new RecipientRefusal(
        `the request routes ${request.materials.length} materials; a recipient's system takes at most ${APPLIED_MATERIALS_MAX} in one application`,
      );
    }
    const received: ReceivedMaterial[] = [];
    for (const m of request.materials) {
      const fetched = await this.retryTransient(async () => {
        if (!isMaterialLinkOf(m.url, this.config.transfers.gatewayPublicUrl)) {
          throw new PoisonMessage(`material ${m.type}: its link is not a material link of datarun's gateway (GATEWAY_PUBLIC_URL); not fetched`);
        }
        let res: Response;
        try {
          // Under the request's correlation id: the gateway's material.fetched record carries it.
          // A redirect is not followed: the gateway never answers one, so it would lead elsewhere.
          res = await fetch(m.url, {
            headers: { ...propagationHeaders(RequestContext.correlationId()), ...(await this.authorization()) },
            signal: AbortSignal.timeout(10_000),
            redirect: 'manual',
          });
        } catch (error) {
          throw new TransientFailure(`cannot fetch material ${m.type}: ${(error as Error).message}`);
        }
        if (res.status >= 500 || res.status === 429) throw new TransientFailure(`material ${m.type}: the gateway answered ${res.status}`);
        if (res.status >= 300 && res.status < 400) throw new PoisonMessage(`material ${m.type}: the gateway answered a redirect, not followed`);
        if (!res.ok) {
          const problem = (await res.json().catch(() => ({}))) as { code?: string; detail?: string };
          throw new PoisonMessage(`material ${m.type} refused: ${problem.code ?? res.status} ${problem.detail ?? ''}`.trim());
        }
        const contentType = mediaTypeOf(res.headers.get('content-type'));
        if (!contentType) throw new PoisonMessage(`material ${m.type}: the gateway named no media type for it`);
        return { contentType, bytes: Buffer.from(await res.arrayBuffer()) };
      }, heartbeat);
      if (fetched.bytes.length > APPLIED_MATERIAL_MAX_BYTES) {
        throw new PoisonMessage(`material ${m.type} is ${fetched.bytes.length} bytes, above the ${APPLIED_MATERIAL_MAX_BYTES} a material may have`);
      }
      const actual = createHash('sha256').update(fetched.bytes).digest('hex');
      if (actual !== m.sha256) throw new PoisonMessage(`MATERIAL_HASH_MISMATCH: material ${m.type} has SHA-256 ${actual}, the request says ${m.sha256}`);
      received.push({ type: m.type, sha256: actual, contentType: fetched.contentType, bytes: fetched.bytes });
    }
    return received;
  }

  /** `authorization: Bearer <member token>`, or nothing without a key (development and test only). */
  private async authorization(): Promise<Record<string, string>> {
    return this.tokens ? { authorization: `Bearer ${await this.tokens.current()}` } : {};
  }

  /** Retries transient failures with backoff, heartbeating so the group keeps this member; then gives up to kafkajs. */
  private async retryTransient<T>(work: () => Promise<T>, heartbeat: () => Promise<void>): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await work();
      } catch (error) {
        if (!(error instanceof TransientFailure) || attempt >= TRANSIENT_BACKOFF_MS.length) throw error;
        this.logger.warn(`${error.message}; retrying in ${TRANSIENT_BACKOFF_MS[attempt]} ms`);
        await new Promise((r) => setTimeout(r, TRANSIENT_BACKOFF_MS[attempt]));
        await heartbeat();
      }
    }
  }

  /** An unexpected failure: redelivered a few times (it may be passing), then dead-lettered with the reason. */
  private async bounded(original: OriginalMessage, requestId: string, error: Error): Promise<void> {
    const attempts = (this.attempts.get(requestId) ?? 0) + 1;
    this.attempts.set(requestId, attempts);
    if (attempts < MAX_ATTEMPTS) throw error;
    this.attempts.delete(requestId);
    return this.deadLetter(original, `gave up after ${attempts} attempts: ${error.message}`, requestId);
  }

  private async deadLetter(original: OriginalMessage, reason: string, what: string): Promise<void> {
    this.logger.warn(`dead-lettering ${original.topic} ${what}: ${reason}`);
    const signer = this.options.signer;
    const letter = signer ? await sealedDeadLetter(original, reason, this.source, memberSealer(signer)) : deadLetter(original, reason, this.source);
    await this.messaging.publish(DEAD_LETTER_TOPIC, [letter]);
    this.deadLetters.inc();
  }

  /**
   * `undefined` outcome = accepted (received and being applied). The status names the member, and
   * the utility kind for a utility kind's transfer or discount; it carries the request's
   * correlation id back (`handle` runs in the consumed request's context, and `statusEvent` takes it).
   */
  private async publishStatus(outcome: Outcome | undefined, request: RecipientRequest): Promise<void> {
    const status: TransferStatus = {
      requestId: request.requestId,
      recipient: this.member.id,
      ...(request.request === 'benefit' ? {} : { utility: request.utility }),
      ...(outcome === undefined
        ? { state: 'accepted' }
        : outcome.state === 'completed'
          ? { state: 'completed', reference: storable(outcome.reference) }
          : { state: 'rejected', reason: storable(outcome.reason.slice(0, 1000)) }),
    };
    const signer = this.options.signer;
    let message;
    if (signer) {
      assertEventBody('status', status);
      message = await signedEventMessage({
        ...signer,
        topic: STATUS_TOPIC,
        type: EVENT_TYPES.status,
        key: request.requestId,
        subject: request.requestId,
        data: status,
      });
    } else message = toKafkaMessage(statusEvent(this.member.id, status), request.requestId);
    await this.messaging.publish(STATUS_TOPIC, [message]);
  }
}

/**
 * What the recipient's system said, without U+0000: a status holding one is malformed (PostgreSQL
 * cannot store it, assertEventBody), so it would be refused before it is signed, on every
 * redelivery, and its request would hold up the partition for good.
 */
function storable(text: string): string {
  return text.replace(/\u0000/g, '\ufffd');
}
