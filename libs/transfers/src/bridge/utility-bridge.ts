import { createHash } from 'node:crypto';
import type { MemberSigningKey } from '@datarun/auth';
import { DATARUN_CONFIG, type DatarunConfig } from '@datarun/config';
import { type CloudEvent, fromKafkaMessage, KafkaMessaging, MalformedEvent, toKafkaMessage } from '@datarun/messaging';
import { Metrics } from '@datarun/metrics';
import { propagationHeaders, RequestContext } from '@datarun/request-context';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { EachMessagePayload } from 'kafkajs';
import { Counter } from 'prom-client';
import { DataSource } from 'typeorm';
import { isMaterialLinkOf } from '../material-links.js';
import { deadLetter, memberSealer, type OriginalMessage, sealedDeadLetter } from '../dead-letters.js';
import { assertEventBody, EVENT_TYPES, statusEvent, type TransferStatus, type UtilityRequest, utilityRequestOf } from '../events.js';
import { ConsumerLag } from '../ops/consumer-lag.js';
import { signedEventMessage } from '../signed-event.js';
import { DEAD_LETTER_TOPIC, requestTopic, type RequestKind, STATUS_TOPIC, topicSpec } from '../topics.js';
import {
  APPLIED_MATERIAL_MAX_BYTES,
  APPLIED_MATERIALS_MAX,
  type ReceivedMaterial,
  TransientFailure,
  UTILITY_SYSTEM,
  UtilityRefusal,
  type UtilitySystem,
} from './utility-system.js';

/** `type/subtype` of a content-type header, without its parameters; undefined when it names none. */
function mediaTypeOf(header: string | null): string | undefined {
  const media = header?.split(';')[0]?.trim().toLowerCase();
  return media && /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/.test(media) ? media : undefined;
}

/** A message that will never succeed as it is (broken material, bad link): dead-lettered at once. */
class PoisonMessage extends Error {
  override name = 'PoisonMessage';
}

export const BRIDGE_OPTIONS = Symbol('BRIDGE_OPTIONS');
/**
 * The utility member's private key (UTILITY_MEMBER_KEY), loaded once at boot; undefined in
 * development and test when there is no key file (statuses then go out unsigned, and the relay
 * dead-letters them).
 */
export const BRIDGE_SIGNER = Symbol('BRIDGE_SIGNER');
export interface BridgeOptions {
  /** Exit the process when kafkajs gives up on the consumer, so a supervisor restarts it. */
  readonly exitOnCrash: boolean;
}

/** Tries of one message that fails for an unclassified reason before it is dead-lettered. */
const MAX_ATTEMPTS = 5;
const TRANSIENT_BACKOFF_MS = [200, 500, 1000, 2000, 5000, 5000];

type Outcome = { state: 'completed'; reference: string } | { state: 'rejected'; reason: string };

/**
 * The reference connector a utility runs: its request topics -> its own system -> the status topic.
 *
 * Uses kafkajs through KafkaMessaging rather than @nestjs/microservices' Kafka transport: the
 * transport fixes topics by decorator at build time (ours come from UTILITY_KIND and the prefix),
 * runs a second Kafka client beside the process's one, and gives no hook for the crash event we
 * exit on; its commit-after-handler semantics are what `consume` already gives.
 *
 * Exactly once in the utility's system: the inbox table (this utility's processed event ids, with
 * their outcome) is written after the work and before the offset is committed, so a redelivery
 * finds it and is skipped (its status is sent again, which heals a lost status). A crash between
 * the utility applying and the inbox write is closed by the system's own idempotency key.
 *
 * Every status goes out as the utility's member (`ce_source`) and signed with its key, which is what
 * the relay needs to apply it; every dead letter is sealed with the same key, which is what an
 * operator needs to replay it (docs/security.md).
 */
@Injectable()
export class UtilityBridge implements OnApplicationBootstrap {
  private readonly logger = new Logger('UtilityBridge');
  private readonly kind: string;
  /** Names this process on its dead letters (`datarun-dlq-by`). */
  private readonly source: string;
  private readonly attempts = new Map<string, number>();
  readonly outcomes: Counter;
  readonly duplicates: Counter;
  readonly deadLetters: Counter;
  /** How far behind this utility is, on /metrics for both request topics. */
  readonly lag: ConsumerLag;

  constructor(
    private readonly dataSource: DataSource,
    private readonly messaging: KafkaMessaging,
    @Inject(UTILITY_SYSTEM) private readonly system: UtilitySystem,
    @Inject(DATARUN_CONFIG) private readonly config: DatarunConfig,
    @Inject(BRIDGE_OPTIONS) private readonly options: BridgeOptions,
    @Inject(BRIDGE_SIGNER) private readonly signer: MemberSigningKey | undefined,
    metrics: Metrics,
  ) {
    this.kind = config.utilityKind;
    this.source = `datarun.utility-bridge.${this.kind}`;
    this.outcomes = new Counter({
      name: 'datarun_bridge_requests_total',
      help: 'Requests applied, by outcome',
      labelNames: ['outcome'] as const,
      registers: [metrics.registry],
    });
    this.duplicates = new Counter({
      name: 'datarun_bridge_inbox_duplicates_total',
      help: 'Redelivered requests the inbox recognised and skipped',
      registers: [metrics.registry],
    });
    this.deadLetters = new Counter({ name: 'datarun_bridge_dead_letters_total', help: 'Requests dead-lettered', registers: [metrics.registry] });
    this.lag = new ConsumerLag(
      messaging,
      metrics.registry,
      this.topics.map((topic) => ({ groupId: this.groupId, topic })),
    );
  }

  get groupId(): string {
    return `datarun-utility-bridge-${this.kind}`;
  }

  get topics(): string[] {
    return [requestTopic(this.kind, 'transfer'), requestTopic(this.kind, 'discount')];
  }

  onApplicationBootstrap(): Promise<void> {
    return this.messaging.keepStarting(`consuming ${this.topics.join(', ')}`, async () => {
      const partitions = this.config.transfers.topicPartitions;
      await this.messaging.ensureTopics([...this.topics, STATUS_TOPIC, DEAD_LETTER_TOPIC].map((t) => topicSpec(t, partitions)));
      await this.messaging.consume({
        groupId: this.groupId,
        topics: this.topics,
        onMessage: (p) => this.handle(p),
        commitEvery: this.config.bridgeCommit,
        onCrash: this.options.exitOnCrash ? () => process.exit(70) : undefined,
      });
      this.logger.log(`consuming ${this.topics.join(', ')} as ${this.groupId}, applying to ${this.config.utilitySystemUrl}`);
      if (!this.signer)
        this.logger.warn(`no key file for ${this.config.utilityMember.id} (UTILITY_MEMBER_KEY): statuses go out unsigned and the relay will refuse them`);
    });
  }

  /** One request, in the request context `consume` entered for it (the event's `ce_correlationid`). */
  async handle({ topic, partition, message, heartbeat }: EachMessagePayload): Promise<void> {
    const original = { topic, key: message.key, value: message.value, headers: message.headers };
    let request: UtilityRequest;
    try {
      request = this.requestOf(topic, fromKafkaMessage(message));
    } catch (error) {
      if (error instanceof MalformedEvent) return this.deadLetter(original, error.message, `${partition}@${message.offset}`);
      throw error;
    }

    const [seen] = await this.dataSource.query<Array<{ outcome: 'completed' | 'rejected'; reference: string | null; reason: string | null }>>(
      // As a CTE: TypeORM answers a bare UPDATE with [rows, count] instead of the rows.
      'WITH seen AS (UPDATE bridge_inbox SET redeliveries = redeliveries + 1 WHERE utility = $1 AND event_id = $2 RETURNING outcome, reference, reason) SELECT * FROM seen',
      [this.kind, request.requestId],
    );
    if (seen) {
      this.duplicates.inc();
      return this.publishStatus(
        seen.outcome === 'completed' ? { state: 'completed', reference: seen.reference ?? '' } : { state: 'rejected', reason: seen.reason ?? 'rejected' },
        request,
      );
    }

    let outcome: Outcome;
    try {
      await this.publishStatus(undefined, request);
      const materials = await this.fetchMaterials(request, heartbeat);
      const { reference } = await this.retryTransient(() => this.system.apply(request, materials), heartbeat);
      outcome = { state: 'completed', reference };
    } catch (error) {
      if (error instanceof UtilityRefusal) outcome = { state: 'rejected', reason: error.message };
      else if (error instanceof PoisonMessage) return this.deadLetter(original, error.message, request.requestId);
      else if (error instanceof TransientFailure)
        throw error; // redelivered by kafkajs after its backoff; never dead-lettered
      else return this.bounded(original, request.requestId, error as Error);
    }
    await this.dataSource.query(`INSERT INTO bridge_inbox (utility, event_id, outcome, reference, reason) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, [
      this.kind,
      request.requestId,
      outcome.state,
      outcome.state === 'completed' ? outcome.reference : null,
      outcome.state === 'rejected' ? outcome.reason.slice(0, 1000) : null,
    ]);
    this.attempts.delete(request.requestId);
    this.outcomes.inc({ outcome: outcome.state });
    await this.publishStatus(outcome, request);
  }

  private requestOf(topic: string, event: CloudEvent): UtilityRequest {
    const expected: RequestKind | undefined =
      topic === requestTopic(this.kind, 'transfer') ? 'transfer' : topic === requestTopic(this.kind, 'discount') ? 'discount' : undefined;
    if (!expected) throw new MalformedEvent(`topic ${topic} is not one of this bridge's`);
    const request = utilityRequestOf(event, expected);
    if (request.utility !== this.kind) throw new MalformedEvent(`request ${request.requestId} is for ${request.utility}, this bridge serves ${this.kind}`);
    return request;
  }

  /**
   * Fetches each material through its signed link and checks its SHA-256 before anything is
   * applied: what the utility's system receives are these verified bytes, with their media type.
   */
  private async fetchMaterials(request: UtilityRequest, heartbeat: () => Promise<void>): Promise<ReceivedMaterial[]> {
    if (request.materials.length > APPLIED_MATERIALS_MAX) {
      throw new UtilityRefusal(
        `the request routes ${request.materials.length} materials; a utility's system takes at most ${APPLIED_MATERIALS_MAX} in one application`,
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
            headers: propagationHeaders(RequestContext.correlationId()),
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
    const letter = this.signer ? await sealedDeadLetter(original, reason, this.source, memberSealer(this.signer)) : deadLetter(original, reason, this.source);
    await this.messaging.publish(DEAD_LETTER_TOPIC, [letter]);
    this.deadLetters.inc();
  }

  /**
   * `undefined` outcome = accepted (received and being applied). The status carries the request's
   * correlation id back (`handle` runs in the consumed request's context, and `statusEvent` takes it).
   */
  private async publishStatus(outcome: Outcome | undefined, request: UtilityRequest): Promise<void> {
    const status: TransferStatus = outcome
      ? {
          requestId: request.requestId,
          utility: this.kind,
          ...(outcome.state === 'completed'
            ? { state: 'completed', reference: outcome.reference }
            : { state: 'rejected', reason: outcome.reason.slice(0, 1000) }),
        }
      : { requestId: request.requestId, utility: this.kind, state: 'accepted' };
    const member = this.config.utilityMember.id;
    let message;
    if (this.signer) {
      assertEventBody('status', status);
      message = await signedEventMessage({
        ...this.signer,
        topic: STATUS_TOPIC,
        type: EVENT_TYPES.status,
        key: request.requestId,
        subject: request.requestId,
        data: status,
      });
    } else message = toKafkaMessage(statusEvent(member, status), request.requestId);
    await this.messaging.publish(STATUS_TOPIC, [message]);
  }
}
