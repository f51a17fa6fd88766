import { createHash } from 'node:crypto';
import type { MemberSigningKey } from '@datarun/auth';
import { type ConnectorMember, DATARUN_CONFIG, type DatarunConfig } from '@datarun/config';
import {
  bytesOf,
  type CloudEvent,
  correlationIdOfMessage,
  fromKafkaMessage,
  headerBytesOf,
  KafkaMessaging,
  MalformedEvent,
  toKafkaMessage,
} from '@datarun/messaging';
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
  orderOf,
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
import type { Consumer, EachMessagePayload, Message } from '@datarun/messaging';
import { Counter, Gauge } from 'prom-client';
import { ConnectorInbox, type DeferredRequest, type HeldMessage, type Outcome } from './inbox.js';
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

/**
 * The connector's own means failed (the broker refused a status), not the request: never counted
 * against the request or dead-lettered; the delivery is tried again once the broker answers.
 */
class InfrastructureFault extends Error {
  override name = 'InfrastructureFault';
}

/** One delivery of a request: the message as it came, what it asks, and the send it belongs to (its correlation id). */
interface Delivery {
  readonly message: HeldMessage;
  readonly request: RecipientRequest;
  readonly send: string | null;
}

/** How often the retry loop looks for set-aside requests whose time has come. */
const RETRY_POLL_MS = 250;
/** How long a try that could not run for want of the broker waits before the next one. */
const INFRASTRUCTURE_PAUSE_MS = 5000;

/**
 * The wait before try `attempt + 1`: doubling from `baseMs` up to `maxMs`, of which a random half
 * (so that many requests failing together do not come back together).
 */
export function retryDelayMs(attempt: number, retry: { readonly baseMs: number; readonly maxMs: number }, random = Math.random): number {
  const ceiling = Math.min(retry.maxMs, retry.baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
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
 * A request whose system fails for a reason that may pass is set aside in the inbox file and
 * retried there on its own backoff (parked once its budget is spent, until an operator resumes
 * it), so the requests behind it flow on; only the connector's own broker trouble makes a message
 * come again. Requests for one property (or account) are ordered by their `sequence`: one older
 * than the newest applied is reported `superseded`, never applied (docs/operations.md).
 *
 * Every material is fetched under a token of the member (the gateway serves a link to its
 * recipient only, and issues a fresh one when it expired while the request waited); every status goes out as the member (`ce_source`) and signed with its key,
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
  /** The work on each order key (a property, an account, else the request) in progress: the consumer and the retry loop take turns. */
  private readonly turns = new Map<string, Promise<void>>();
  private consumer: Consumer | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retrying: Promise<void> | undefined;
  private stopping = false;
  readonly topics: readonly string[];
  readonly outcomes: Counter;
  readonly duplicates: Counter;
  readonly deadLetters: Counter;
  readonly retries: Counter;
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
    this.retries = new Counter({
      name: 'datarun_connector_retries_total',
      help: 'Failed tries of requests set aside to be tried again, by what became of them (retrying, parked)',
      labelNames: ['then'] as const,
      registers: [metrics.registry],
    });
    const deferredCounts = () => this.inbox.deferredCounts();
    new Gauge({
      name: 'datarun_connector_deferred_requests',
      help: 'Requests set aside in the inbox file: retrying on their own schedule, or parked until `datarun connector resume`',
      labelNames: ['state'] as const,
      registers: [metrics.registry],
      collect() {
        const counts = deferredCounts();
        this.set({ state: 'retrying' }, counts.retrying);
        this.set({ state: 'parked' }, counts.parked);
      },
    });
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
      this.retryTimer = setInterval(() => void this.retryDue(), RETRY_POLL_MS);
      this.retryTimer.unref();
      const { retrying, parked } = this.inbox.deferredCounts();
      this.logger.log(
        `consuming ${this.topics.join(', ')} as ${this.groupId}, applying to ${this.member.systemUrl}, inbox ${this.inbox.path}` +
          (retrying + parked > 0 ? ` (${retrying} requests set aside to retry, ${parked} parked)` : ''),
      );
      if (!this.options.signer)
        this.logger.warn(
          `no key file for ${this.member.id} (CONNECTOR_MEMBER_KEY): statuses go out unsigned and the relay will refuse them; material fetches carry no token`,
        );
    });
  }

  /** Stops consuming (committing what the inbox holds) and retrying before the inbox closes. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.retryTimer);
    if (this.consumer) await this.messaging.stopConsumer(this.consumer);
    await this.retrying;
  }

  onApplicationShutdown(): void {
    this.inbox.close();
  }

  /**
   * One request, in the request context `consume` entered for it (the event's `ce_correlationid`).
   * Resolves once the request is settled (applied, refused, superseded, dead-lettered) or set aside
   * in the inbox file to be retried: either way its offset may be committed, and the requests
   * behind it flow on. Throws only when the connector's own means failed (the broker), so the
   * message is delivered again.
   */
  async handle({ topic, partition, message }: Pick<EachMessagePayload, 'topic' | 'partition' | 'message'>): Promise<void> {
    const held: HeldMessage = {
      topic,
      key: bytesOf(message.key) ?? null,
      value: bytesOf(message.value) ?? Buffer.alloc(0),
      headers: headerBytesOf(message.headers ?? {}),
    };
    let delivery: Delivery;
    try {
      delivery = this.deliveryOf(held);
    } catch (error) {
      if (error instanceof MalformedEvent) return this.deadLetter(held, error.message, `${partition}@${message.offset}`);
      throw error;
    }
    const { request, send } = delivery;
    await this.inTurn(delivery, async () => {
      const seen = this.inbox.redelivered(request.requestId, send);
      if (seen) {
        this.duplicates.inc();
        return this.publishStatus(seen, request);
      }
      // Already set aside under this send (a replay, a redelivery after a crash): its retries go on.
      if (this.inbox.holds(request.requestId, send)) return void this.duplicates.inc();
      await this.publishStatus(undefined, request);
      await this.attempt(delivery, undefined);
    });
  }

  private deliveryOf(message: HeldMessage): Delivery {
    const event = fromKafkaMessage(message);
    return { message, request: this.requestOf(message.topic, event), send: event.correlationid ?? null };
  }

  /**
   * Runs `work` when the work before it on the same order key is done: a retry and a newer request
   * for the same property never run at once, so the newer one's mark is always seen.
   */
  private async inTurn(delivery: Delivery, work: () => Promise<void>): Promise<void> {
    const key = orderOf(delivery.request)?.key ?? delivery.request.requestId;
    const before = this.turns.get(key) ?? Promise.resolve();
    const mine = before.then(work, work);
    const settled = mine.catch(() => undefined);
    this.turns.set(key, settled);
    try {
      await mine;
    } finally {
      if (this.turns.get(key) === settled) this.turns.delete(key);
    }
  }

  /**
   * One try of a delivery: superseded when a newer request of its property or account was applied;
   * else its materials fetched and checked, and the system asked. A refusal is its outcome; poison
   * is dead-lettered; any other failure of the request (the system down, slow or failing in a way
   * it did not explain, the gateway away) sets it aside to be tried again, or parks it once its
   * budget is spent. `deferred`: the request as set aside, when this is a retry.
   */
  private async attempt(delivery: Delivery, deferred: DeferredRequest | undefined): Promise<void> {
    const { request, send, message } = delivery;
    const order = orderOf(request);
    const mark = order && this.inbox.orderMark(order.key);
    let outcome: Outcome;
    if (order && mark && mark.sequence > order.sequence) {
      outcome = {
        state: 'superseded',
        reason: `${mark.requestId} (sequence ${mark.sequence}), a newer request for ${order.key}, was applied first; this one (sequence ${order.sequence}) is not`,
      };
    } else {
      try {
        const materials = await this.fetchMaterials(request);
        const { reference } = await this.system.apply(request, materials);
        outcome = { state: 'completed', reference };
      } catch (error) {
        if (error instanceof RecipientRefusal) outcome = { state: 'rejected', reason: error.message };
        else if (error instanceof PoisonMessage) {
          this.inbox.settle(request.requestId);
          return this.deadLetter(message, error.message, request.requestId);
        } else return this.retryLater(delivery, error as Error, deferred);
      }
    }
    this.inbox.record(request.requestId, outcome, send, order);
    this.outcomes.inc({ outcome: outcome.state });
    await this.publishStatus(outcome, request);
  }

  /**
   * Sets a failed request aside with its next try after a backoff, or parks it when it has been
   * failing for the whole budget. Its offset is committed all the same: the inbox file holds it now.
   */
  private retryLater(delivery: Delivery, error: Error, deferred: DeferredRequest | undefined): void {
    const { request, send, message } = delivery;
    const { retry } = this.config.connector;
    const now = new Date();
    const sameSend = deferred !== undefined && deferred.send === send;
    if (sameSend && now.getTime() - deferred.firstFailedAt.getTime() >= retry.budgetMs) {
      this.inbox.park(request.requestId, error.message, now);
      this.retries.inc({ then: 'parked' });
      this.logger.error(
        `parked ${request.requestId} after ${deferred.attempts + 1} tries since ${deferred.firstFailedAt.toISOString()}: ${error.message}; ` +
          `it stays in ${this.inbox.path}, and \`datarun connector resume ${request.requestId}\` tries it again`,
      );
      return;
    }
    const attempts = (sameSend ? deferred.attempts : 0) + 1;
    const delay = retryDelayMs(attempts, retry);
    this.inbox.defer(request.requestId, send, message, error.message, new Date(now.getTime() + delay), now);
    this.retries.inc({ then: 'retrying' });
    this.logger.warn(`${request.requestId} failed (try ${attempts}): ${error.message}; set aside, next try in ${delay} ms`);
  }

  /** Tries again each set-aside request whose time has come, one at a time, each in its own send's request context. */
  retryDue(): Promise<void> {
    if (this.retrying || this.stopping) return this.retrying ?? Promise.resolve();
    const run = async () => {
      // Past the first await: `retrying` is set before anything below can finish.
      await Promise.resolve();
      try {
        for (const deferred of this.inbox.due()) {
          if (this.stopping) return;
          await RequestContext.run(correlationIdOfMessage(deferred.message), () => this.retry(deferred));
        }
      } catch (error) {
        this.logger.error(`the retry of set-aside requests failed: ${(error as Error).message}`);
      } finally {
        this.retrying = undefined;
      }
    };
    this.retrying = run();
    return this.retrying;
  }

  private async retry(deferred: DeferredRequest): Promise<void> {
    let delivery: Delivery;
    try {
      delivery = this.deliveryOf(deferred.message);
    } catch (error) {
      // It was read once; a connector upgraded since may read it differently.
      this.inbox.settle(deferred.requestId);
      return this.deadLetter(deferred.message, (error as Error).message, deferred.requestId);
    }
    try {
      await this.inTurn(delivery, async () => {
        // Settled meanwhile (a resend that went through, an operator): nothing left to do.
        const current = this.inbox.deferred(deferred.requestId);
        if (!current || current.parkedAt !== null || current.send !== deferred.send) return;
        await this.attempt(delivery, current);
      });
    } catch (error) {
      if (!(error instanceof InfrastructureFault)) throw error;
      this.inbox.postpone(deferred.requestId, new Date(Date.now() + INFRASTRUCTURE_PAUSE_MS));
      this.logger.warn(`${deferred.requestId}: ${error.message}; its next try waits for the broker`);
    }
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
  private async fetchMaterials(request: RecipientRequest): Promise<ReceivedMaterial[]> {
    if (request.materials.length > APPLIED_MATERIALS_MAX) {
      throw new RecipientRefusal(
        `the request routes ${request.materials.length} materials; a recipient's system takes at most ${APPLIED_MATERIALS_MAX} in one application`,
      );
    }
    const received: ReceivedMaterial[] = [];
    for (const m of request.materials) {
      let fetched = await this.fetchMaterial(m.type, m.url);
      if (fetched === 'expired') {
        // The link ran out while the request waited (a stopped connector, a backlog): the gateway
        // issues the request's links afresh to its recipient, and the material is fetched once more.
        const renewed = await this.renewedLink(request, m);
        fetched = await this.fetchMaterial(m.type, renewed);
        if (fetched === 'expired') throw new TransientFailure(`material ${m.type}: the gateway's fresh link was refused as expired (are the clocks apart?)`);
      }
      if (fetched.bytes.length > APPLIED_MATERIAL_MAX_BYTES) {
        throw new PoisonMessage(`material ${m.type} is ${fetched.bytes.length} bytes, above the ${APPLIED_MATERIAL_MAX_BYTES} a material may have`);
      }
      const actual = createHash('sha256').update(fetched.bytes).digest('hex');
      if (actual !== m.sha256) throw new PoisonMessage(`MATERIAL_HASH_MISMATCH: material ${m.type} has SHA-256 ${actual}, the request says ${m.sha256}`);
      received.push({ type: m.type, sha256: actual, contentType: fetched.contentType, bytes: fetched.bytes });
    }
    return received;
  }

  /** One material through its link, under the member's token; `expired` when the gateway says the link ran out. */
  private async fetchMaterial(type: string, url: string): Promise<{ contentType: string; bytes: Buffer } | 'expired'> {
    if (!isMaterialLinkOf(url, this.config.transfers.gatewayPublicUrl)) {
      throw new PoisonMessage(`material ${type}: its link is not a material link of datarun's gateway (GATEWAY_PUBLIC_URL); not fetched`);
    }
    const res = await this.gatewayGet(url, `cannot fetch material ${type}`);
    if (res.status >= 500 || res.status === 429) throw new TransientFailure(`material ${type}: the gateway answered ${res.status}`);
    if (res.status >= 300 && res.status < 400) throw new PoisonMessage(`material ${type}: the gateway answered a redirect, not followed`);
    if (!res.ok) {
      const problem = (await res.json().catch(() => ({}))) as { code?: string; detail?: string };
      if (problem.code === 'LINK_EXPIRED') return 'expired';
      throw new PoisonMessage(`material ${type} refused: ${problem.code ?? res.status} ${problem.detail ?? ''}`.trim());
    }
    const contentType = mediaTypeOf(res.headers.get('content-type'));
    if (!contentType) throw new PoisonMessage(`material ${type}: the gateway named no media type for it`);
    try {
      return { contentType, bytes: Buffer.from(await res.arrayBuffer()) };
    } catch (error) {
      throw new TransientFailure(`material ${type}: its body broke off: ${(error as Error).message}`);
    }
  }

  /** The material's link issued now: the request as the gateway serves it to its recipient (GET /v1/requests/{id}). */
  private async renewedLink(request: RecipientRequest, material: { type: string; sha256: string }): Promise<string> {
    const url = `${this.config.transfers.gatewayPublicUrl}/v1/requests/${request.requestId}`;
    const res = await this.gatewayGet(url, `material ${material.type}: its link expired, and the gateway cannot be asked for a new one`);
    const answer = (await res.json().catch(() => ({}))) as { data?: { materials?: Array<{ type: string; sha256: string; url: string }> }; code?: string };
    if (res.status >= 500 || res.status === 429) throw new TransientFailure(`material ${material.type}: renewing its link, the gateway answered ${res.status}`);
    if (!res.ok) throw new PoisonMessage(`material ${material.type}: its link expired, and the gateway refused a new one: ${answer.code ?? res.status}`);
    const renewed = answer.data?.materials?.find((m) => m.type === material.type && m.sha256 === material.sha256);
    if (!renewed) throw new PoisonMessage(`material ${material.type}: its link expired, and the request as the gateway serves it no longer routes it`);
    this.logger.log(`material ${material.type} of ${request.requestId}: its link had expired; fetched through a fresh one`);
    return renewed.url;
  }

  /**
   * A GET to datarun's gateway as the member, under the request's correlation id (the gateway's
   * audit records carry it); not reaching it at all is a failure that may pass. A redirect is not
   * followed: the gateway never answers one, so it would lead elsewhere.
   */
  private async gatewayGet(url: string, failing: string): Promise<Response> {
    try {
      return await fetch(url, {
        headers: { ...propagationHeaders(RequestContext.correlationId()), ...(await this.authorization()) },
        signal: AbortSignal.timeout(10_000),
        redirect: 'manual',
      });
    } catch (error) {
      throw new TransientFailure(`${failing}: ${(error as Error).message}`);
    }
  }

  /** `authorization: Bearer <member token>`, or nothing without a key (development and test only). */
  private async authorization(): Promise<Record<string, string>> {
    return this.tokens ? { authorization: `Bearer ${await this.tokens.current()}` } : {};
  }

  private async deadLetter(original: OriginalMessage, reason: string, what: string): Promise<void> {
    this.logger.warn(`dead-lettering ${original.topic} ${what}: ${reason}`);
    const signer = this.options.signer;
    const letter = signer ? await sealedDeadLetter(original, reason, this.source, memberSealer(signer)) : deadLetter(original, reason, this.source);
    await this.publish(DEAD_LETTER_TOPIC, letter);
    this.deadLetters.inc();
  }

  private async publish(topic: string, message: Message): Promise<void> {
    try {
      await this.messaging.publish(topic, [message]);
    } catch (error) {
      throw new InfrastructureFault(`cannot publish to ${topic}: ${(error as Error).message}`);
    }
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
          : { state: outcome.state, reason: storable(outcome.reason.slice(0, 1000)) }),
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
    await this.publish(STATUS_TOPIC, message);
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
