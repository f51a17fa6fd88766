import { createPrivateKey, type KeyObject } from 'node:crypto';
import { algorithmForKey, type KeyDirectory, type MemberKeys, signingAlgorithmOf } from '@datarun/auth';
import { decodeProtectedHeader, FlattenedSign, flattenedVerify, type ProtectedHeaderParameters } from 'jose';
import { cloudEvent, toKafkaMessage } from '@datarun/messaging';
import type { Message } from 'kafkajs';

/**
 * Who may publish records (docs/security.md): `ce_source` alone can be spoofed by anyone who can write
 * to a topic, so a department's record event carries a detached JWS over its body (RFC 7515
 * Appendix F: `<b64url protected header>..<b64url signature>`, the payload left out because it is
 * the message value itself) made with one of the member's registered keys. jose signs and verifies
 * the JWS (a flattened JWS whose payload we leave out, and supply again to verify); we keep the
 * rules on top: the key comes from the registry by `ce_source` and `kid`, never from the header,
 * its type fixes the algorithm, and `crit`/`b64` are refused.
 */
export const RECORD_SIGNATURE_HEADER = 'datarun-signature';

/** The `ce_type` of a record a department publishes on `datarun.records.<source>.v1`. */
export const RECORD_EVENT_TYPE = 'datarun.records.published.v1';

/** The header value: `<protected>..<signature>`, the compact form with the payload left out. */
const DETACHED_JWS = /^([A-Za-z0-9_-]+)\.\.([A-Za-z0-9_-]+)$/;
/** An RS256 signature of a 4096-bit key is 683 characters; anything far longer is not ours. */
const MAX_SIGNATURE_LENGTH = 4096;

/** Signs the exact bytes of a body: the value of the `datarun-signature` header. */
export async function signRecordBody(body: Buffer | string, privateKey: KeyObject | string, kid: string): Promise<string> {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  if (key.type !== 'private') throw new Error('signRecordBody: a private key is required');
  const jws = await new FlattenedSign(toBytes(body)).setProtectedHeader({ alg: signingAlgorithmOf(key), kid }).sign(key);
  return `${jws.protected}..${jws.signature}`;
}

export type SignatureCheck = { readonly ok: true; readonly member: MemberKeys; readonly kid: string } | { readonly ok: false; readonly reason: string };

/**
 * Checks a detached JWS over `body` against the registered keys of `memberId` (the event's
 * `ce_source`). The reasons are for operators reading dead letters: they name the member and key
 * id, never the body.
 */
export async function verifyRecordSignature(body: Buffer, signature: string | undefined, memberId: string, directory: KeyDirectory): Promise<SignatureCheck> {
  const refuse = (reason: string): SignatureCheck => ({ ok: false, reason });
  if (signature === undefined || signature === '') {
    return refuse(`unsigned: no ${RECORD_SIGNATURE_HEADER} header (a detached JWS over the body with a registered key of ${quoted(memberId)})`);
  }
  const parts = signature.length <= MAX_SIGNATURE_LENGTH ? DETACHED_JWS.exec(signature) : null;
  if (!parts) return refuse(`${RECORD_SIGNATURE_HEADER} is not a detached JWS (<b64url protected header>..<b64url signature>, RFC 7515 Appendix F)`);
  const header = protectedHeaderOf(parts[1]);
  if (!header) return refuse(`${RECORD_SIGNATURE_HEADER}: the protected header is not a JSON object`);
  const { alg, kid } = header;
  if (alg !== 'RS256' && alg !== 'ES256') return refuse(`${RECORD_SIGNATURE_HEADER}: alg must be RS256 or ES256`);
  if (typeof kid !== 'string' || kid === '') return refuse(`${RECORD_SIGNATURE_HEADER}: the protected header names no kid`);
  // RFC 7515 §4.1.11: an extension we do not understand makes the JWS invalid; `b64` (RFC 7797,
  // unencoded payloads) would change what the signature covers. jose accepts `crit: ["b64"]` by
  // default, so the refusal is ours.
  if (header.crit !== undefined || header.b64 !== undefined) return refuse(`${RECORD_SIGNATURE_HEADER}: crit and b64 header parameters are not supported`);

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
  return { ok: true, member, kid };
}

export interface RecordToPublish {
  /** The publishing member: `ce_source`. */
  readonly member: string;
  readonly kid: string;
  readonly privateKey: KeyObject | string;
  /** The record's subject key value: the Kafka key, so one subject's records keep their order. */
  readonly subject: string;
  readonly record: unknown;
  /** `ce_id`; a fresh UUID by default. */
  readonly id?: string;
}

/**
 * A department's record as a Kafka message for `datarun.records.<source>.v1`: CloudEvents binary
 * mode, keyed by subject, signed over the exact bytes of the value.
 */
export async function signedRecordMessage(input: RecordToPublish): Promise<Message> {
  const event = cloudEvent({ type: RECORD_EVENT_TYPE, source: input.member, data: input.record, id: input.id });
  const message = toKafkaMessage(event, input.subject);
  const body = message.value; // toKafkaMessage serialises the data once: these are the bytes sent
  if (typeof body !== 'string') throw new Error('signedRecordMessage: the record is not JSON');
  return { ...message, headers: { ...message.headers, [RECORD_SIGNATURE_HEADER]: await signRecordBody(body, input.privateKey, input.kid) } };
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
