import { hkdfSync, type KeyObject } from 'node:crypto';
import { FlattenedSign } from 'jose';
import type { IHeaders, Message } from '@datarun/messaging';
import { type EventSigner, signEvent } from './signed-event.js';
import { DEAD_LETTER_TOPIC } from './topics.js';

/**
 * Headers a dead letter carries besides the original message's own (schemas/events/README.md).
 * `seal` vouches for the others: who dead-lettered the message says where it came from, and only a
 * sealed dead letter may be replayed (docs/security.md, docs/operations.md).
 */
export const DLQ_HEADERS = {
  topic: 'datarun-dlq-topic',
  reason: 'datarun-dlq-reason',
  by: 'datarun-dlq-by',
  at: 'datarun-dlq-at',
  seal: 'datarun-dlq-seal',
} as const;

/** The key id of datarun's own seal (HS256 with a platform key), as opposed to a member's key id. */
export const PLATFORM_SEAL_KID = 'datarun';

export interface OriginalMessage {
  readonly topic: string;
  readonly key: Buffer | string | null;
  readonly value: Buffer | null;
  readonly headers?: IHeaders;
}

/** The original message byte for byte, with where it came from, why and by whom it was given up. Unsealed. */
export function deadLetter(original: OriginalMessage, reason: string, by: string, at = new Date()): Message {
  return {
    key: original.key,
    value: original.value,
    headers: {
      ...withoutDlqHeaders(original.headers),
      [DLQ_HEADERS.topic]: original.topic,
      [DLQ_HEADERS.reason]: reason.slice(0, 2000),
      [DLQ_HEADERS.by]: by,
      [DLQ_HEADERS.at]: at.toISOString(),
    },
  };
}

/**
 * Seals a dead letter: a detached JWS over `sealedBytes` of the message, by datarun itself
 * (platformSealer) or by the member whose process gave it up (memberSealer).
 */
export type DeadLetterSealer = (bytes: Buffer, letter: { readonly key: string; readonly at: string }) => Promise<string>;

/** `deadLetter(...)`, sealed: what datarun's processes and the connectors publish. */
export async function sealedDeadLetter(original: OriginalMessage, reason: string, by: string, sealer: DeadLetterSealer, at = new Date()): Promise<Message> {
  const letter = deadLetter(original, reason, by, at);
  const headers = letter.headers as Record<string, string>;
  const seal = await sealer(sealedBytes(letter), { key: textOf(letter.key) ?? '', at: headers[DLQ_HEADERS.at] });
  return { ...letter, headers: { ...headers, [DLQ_HEADERS.seal]: seal } };
}

/**
 * The bytes a seal covers: the original topic, reason, who and when, and the original key, value
 * and headers, as one JSON array (headers sorted by name), so no part can be changed or moved to
 * another part without breaking the seal.
 */
export function sealedBytes(message: Pick<Message, 'key' | 'value' | 'headers'>): Buffer {
  const headers = message.headers as IHeaders | undefined;
  const value = message.value === null || message.value === undefined ? null : Buffer.from(message.value).toString('base64');
  const original = Object.entries(withoutDlqHeaders(headers)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const dlq = [DLQ_HEADERS.topic, DLQ_HEADERS.reason, DLQ_HEADERS.by, DLQ_HEADERS.at].map((name) => headerText(headers, name) ?? null);
  return Buffer.from(JSON.stringify(['datarun.dead-letter.seal.v1', ...dlq, textOf(message.key), value, original]), 'utf8');
}

/**
 * datarun's own seal key, derived from the material link key (HKDF-SHA256 with its own label, so
 * the two uses never share a key): the relay dead-letters and records, so it holds both ends.
 */
export function platformSealKey(materialLinkKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', materialLinkKey, Buffer.alloc(0), 'datarun.dead-letter.seal.v1', 32));
}

/** datarun's own seal: HS256 under the platform seal key, kid `datarun`. */
export function platformSealer(sealKey: Buffer): DeadLetterSealer {
  return async (bytes) => {
    const jws = await new FlattenedSign(bytes).setProtectedHeader({ alg: 'HS256', kid: PLATFORM_SEAL_KID }).sign(sealKey);
    return `${jws.protected}..${jws.signature}`;
  };
}

/** A member's seal (the connector a recipient runs): its event signature over the dead letter, bound to the dead-letter topic. */
export function memberSealer(signer: EventSigner): DeadLetterSealer {
  return (bytes, { key, at }) =>
    signEvent(bytes, { topic: DEAD_LETTER_TOPIC, source: signer.member, subject: key, time: at }, signer.privateKey as KeyObject | string, signer.kid);
}

/** The original headers again (for replay), as strings. */
export function withoutDlqHeaders(headers: IHeaders | undefined): Record<string, string> {
  const dlq = new Set<string>(Object.values(DLQ_HEADERS));
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(headers ?? {})) {
    if (dlq.has(name) || raw === undefined) continue;
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (value !== undefined) out[name] = value.toString();
  }
  return out;
}

export function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const raw = headers?.[name];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value === undefined ? undefined : value.toString();
}

function textOf(key: Buffer | string | null | undefined): string | null {
  return key === null || key === undefined ? null : key.toString();
}
