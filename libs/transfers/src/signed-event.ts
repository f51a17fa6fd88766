import { createPrivateKey, type KeyObject } from 'node:crypto';
import { algorithmForKey, type KeyDirectory, type MemberKeys, signingAlgorithmOf } from '@datarun/auth';
import { decodeProtectedHeader, FlattenedSign, flattenedVerify, type ProtectedHeaderParameters } from 'jose';
import { cloudEvent, toKafkaMessage } from '@datarun/messaging';
import type { Message } from '@datarun/messaging';
import { recordsTopic } from './topics.js';

/**
 * Who may change state from Kafka (docs/security.md): `ce_source` alone can be spoofed by anyone
 * who can write to a topic, so every event that changes datarun's state — a department's record, a
 * recipient's status, a connector's dead letter — carries a detached JWS over its body (RFC 7515
 * Appendix F: `<b64url protected header>..<b64url signature>`, the payload left out because it is
 * the message value itself) made with one of the sender's registered keys. This module is the one
 * signer and the one verifier of them. jose signs and verifies the JWS; we keep the rules on top:
 * the key comes from the registry by member and `kid`, never from the header, its type fixes the
 * algorithm, and `crit`/`b64` are refused.
 *
 * The protected header binds what the body alone does not say (the CloudEvents attributes travel
 * as unsigned Kafka headers): the topic, the sender (`ce_source`), the subject (the Kafka key: a
 * record's subject key value, a status's request id) and the time it was signed. So a signed body
 * cannot be moved to another topic, key or sender, and a consumer can refuse an older signed event
 * replayed after a newer one (record ingest keeps the newest signed time per subject).
 */
export const SIGNATURE_HEADER = 'datarun-signature';

/** What a signature binds besides the body: protected header parameters of these names. */
export const BOUND = { topic: 'datarun-topic', source: 'datarun-source', subject: 'datarun-subject', time: 'datarun-time' } as const;

/** The `ce_type` of a record a department publishes on `datarun.records.<source>.v1`. */
export const RECORD_EVENT_TYPE = 'datarun.records.published.v1';

/**
 * How far ahead of this clock a signed time may be. A sender's clock runs a little fast; a time
 * far ahead would make every later event of that subject look older and be refused.
 */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** The header value: `<protected>..<signature>`, the compact form with the payload left out. */
const DETACHED_JWS = /^([A-Za-z0-9_-]+)\.\.([A-Za-z0-9_-]+)$/;
/** An RS256 signature of a 4096-bit key is 683 characters; with the bound names, anything far longer is not ours. */
const MAX_SIGNATURE_LENGTH = 8192;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/** Where and when a body was signed: the protected header binds each. */
export interface EventBinding {
  /** The topic's name in docs/api.md (without a deployment's KAFKA_TOPIC_PREFIX). */
  readonly topic: string;
  /** The signing member: the event's `ce_source`. */
  readonly source: string;
  /** The Kafka key of the message ('' for none). */
  readonly subject: string;
  /** When it was signed; ISO 8601 UTC. */
  readonly time: string;
}

/** The signer's part: a member's private key and its registered key id. */
export interface EventSigner {
  readonly member: string;
  readonly kid: string;
  readonly privateKey: KeyObject | string;
}

/** Signs the exact bytes of a body, bound to `binding`: the value of the `datarun-signature` header. */
export async function signEvent(body: Buffer | string, binding: EventBinding, privateKey: KeyObject | string, kid: string): Promise<string> {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  if (key.type !== 'private') throw new Error('signEvent: a private key is required');
  const jws = await new FlattenedSign(toBytes(body))
    .setProtectedHeader({
      alg: signingAlgorithmOf(key),
      kid,
      [BOUND.topic]: binding.topic,
      [BOUND.source]: binding.source,
      [BOUND.subject]: binding.subject,
      [BOUND.time]: binding.time,
    })
    .sign(key);
  return `${jws.protected}..${jws.signature}`;
}

export type SignatureCheck =
  { readonly ok: true; readonly member: MemberKeys; readonly kid: string; readonly signedAt: Date } | { readonly ok: false; readonly reason: string };

/**
 * Checks a detached JWS over `body` against the registered keys of `expected.source` (the member
 * who must have signed), and that it was signed for this topic and subject. The reasons are for
 * operators reading dead letters: they name the member, key id and topic, never the body.
 */
export async function verifyEventSignature(
  body: Buffer,
  signature: string | undefined,
  expected: Omit<EventBinding, 'time'>,
  directory: KeyDirectory,
  now: Date = new Date(),
): Promise<SignatureCheck> {
  const refuse = (reason: string): SignatureCheck => ({ ok: false, reason });
  const memberId = expected.source;
  if (signature === undefined || signature === '') {
    return refuse(`unsigned: no ${SIGNATURE_HEADER} header (a detached JWS over the body with a registered key of ${quoted(memberId)})`);
  }
  const parts = signature.length <= MAX_SIGNATURE_LENGTH ? DETACHED_JWS.exec(signature) : null;
  if (!parts) return refuse(`${SIGNATURE_HEADER} is not a detached JWS (<b64url protected header>..<b64url signature>, RFC 7515 Appendix F)`);
  const header = protectedHeaderOf(parts[1]);
  if (!header) return refuse(`${SIGNATURE_HEADER}: the protected header is not a JSON object`);
  const { alg, kid } = header;
  if (alg !== 'RS256' && alg !== 'ES256') return refuse(`${SIGNATURE_HEADER}: alg must be RS256 or ES256`);
  if (typeof kid !== 'string' || kid === '') return refuse(`${SIGNATURE_HEADER}: the protected header names no kid`);
  // RFC 7515 §4.1.11: an extension we do not understand makes the JWS invalid; `b64` (RFC 7797,
  // unencoded payloads) would change what the signature covers. jose accepts `crit: ["b64"]` by
  // default, so the refusal is ours.
  if (header.crit !== undefined || header.b64 !== undefined) return refuse(`${SIGNATURE_HEADER}: crit and b64 header parameters are not supported`);

  for (const name of ['topic', 'source', 'subject'] as const) {
    const bound = header[BOUND[name]];
    if (typeof bound !== 'string') return refuse(`${SIGNATURE_HEADER}: the protected header binds no ${name} (${BOUND[name]})`);
    if (bound !== expected[name]) return refuse(`${SIGNATURE_HEADER}: signed for ${name} ${quoted(bound)}, not ${quoted(expected[name])}`);
  }
  const time = header[BOUND.time];
  const signedAt = typeof time === 'string' && ISO_TIME.test(time) ? new Date(time) : undefined;
  if (!signedAt || Number.isNaN(signedAt.getTime())) return refuse(`${SIGNATURE_HEADER}: the protected header binds no ISO 8601 UTC time (${BOUND.time})`);
  if (signedAt.getTime() > now.getTime() + MAX_CLOCK_SKEW_MS)
    return refuse(`${SIGNATURE_HEADER}: signed at ${time}, ahead of this clock by more than it may be`);

  const member = await directory.find(memberId);
  if (!member) return refuse(`ce_source ${quoted(memberId)} is not a registered member`);
  const key = member.keys.get(kid);
  if (!key) return refuse(`kid ${quoted(kid)} is not a registered key of ${quoted(memberId)}`);
  if (algorithmForKey(key) !== alg) return refuse(`alg ${alg} does not fit key ${quoted(kid)} of ${quoted(memberId)}`);

  try {
    // RFC 7515 Appendix F: the detached payload is put back, base64url-encoded, to verify.
    await flattenedVerify({ protected: parts[1], payload: body.toString('base64url'), signature: parts[2] }, key, { algorithms: [alg] });
  } catch {
    return refuse(`the signature does not verify with key ${quoted(kid)} of ${quoted(memberId)}: the body was altered or signed with another key`);
  }
  return { ok: true, member, kid, signedAt };
}

export interface EventToPublish extends EventSigner {
  readonly topic: string;
  readonly type: string;
  /** The Kafka key: the subject the signature binds. */
  readonly key: string;
  readonly data: unknown;
  /** `ce_id`; a fresh UUID by default. */
  readonly id?: string;
  /** `ce_subject`, when the event has one. */
  readonly subject?: string;
  /** `ce_time` and the signed time; now by default. */
  readonly time?: Date;
}

/**
 * An event as a signed Kafka message: CloudEvents binary mode, `ce_source` the signing member, the
 * signature over the exact bytes of the value, bound to topic, member, key and `ce_time`.
 */
export async function signedEventMessage(input: EventToPublish): Promise<Message> {
  const event = cloudEvent({ type: input.type, source: input.member, data: input.data, id: input.id, subject: input.subject, time: input.time });
  const message = toKafkaMessage(event, input.key);
  const body = message.value; // toKafkaMessage serialises the data once: these are the bytes sent
  if (typeof body !== 'string') throw new Error('signedEventMessage: the data is not JSON');
  const binding: EventBinding = { topic: input.topic, source: input.member, subject: input.key, time: event.time };
  return { ...message, headers: { ...message.headers, [SIGNATURE_HEADER]: await signEvent(body, binding, input.privateKey, input.kid) } };
}

export interface RecordToPublish extends EventSigner {
  /** The replica source: the record goes to `datarun.records.<source>.v1`. */
  readonly source: string;
  /** The record's subject key value: the Kafka key, so one subject's records keep their order. */
  readonly subject: string;
  readonly record: unknown;
  /** `ce_id`; a fresh UUID by default. */
  readonly id?: string;
  /** When the record was signed (its version): a record signed earlier than the stored one is refused. */
  readonly time?: Date;
}

/** A department's record as a signed Kafka message for `datarun.records.<source>.v1`, keyed by subject. */
export function signedRecordMessage(input: RecordToPublish): Promise<Message> {
  return signedEventMessage({
    member: input.member,
    kid: input.kid,
    privateKey: input.privateKey,
    topic: recordsTopic(input.source),
    type: RECORD_EVENT_TYPE,
    key: input.subject,
    data: input.record,
    id: input.id,
    time: input.time,
  });
}

/** The protected header as jose decodes it, or undefined when it is not a base64url JSON object. */
function protectedHeaderOf(encoded: string): ProtectedHeaderParameters | undefined {
  try {
    return decodeProtectedHeader({ protected: encoded });
  } catch {
    return undefined;
  }
}

function toBytes(body: Buffer | string): Buffer {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

/** Names from the event itself, bounded and quoted so a hostile value cannot make a long or misleading reason. */
function quoted(value: string): string {
  return JSON.stringify(value.length > 128 ? `${value.slice(0, 128)}…` : value);
}
