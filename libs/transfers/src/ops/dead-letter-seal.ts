import { KeyRing } from '@datarun/auth';
import { MemberKeyDirectory, RecipientDirectory } from '@datarun/registry';
import { Injectable } from '@nestjs/common';
import { decodeProtectedHeader, flattenedVerify } from 'jose';
import type { IHeaders, Message } from '@datarun/messaging';
import {
  DLQ_HEADERS,
  headerText,
  type OriginalMessage,
  PLATFORM_SEAL_KID,
  platformSealer,
  platformSealKey,
  sealedBytes,
  sealedDeadLetter,
} from '../dead-letters.js';
import { BOUND, verifyEventSignature } from '../signed-event.js';
import { DEAD_LETTER_TOPIC, topicsOf } from '../topics.js';

/** Who vouches for a dead letter's origin, or why nobody does (then it is planted: listed, never replayed). */
export type SealVerdict = { readonly sealed: true; readonly by: string } | { readonly sealed: false; readonly reason: string };

const DETACHED_JWS = /^([A-Za-z0-9_-]{1,4096})\.\.([A-Za-z0-9_-]{1,4096})$/;

/**
 * The dead-letter topic is a topic like any other: whoever can write to it can put a message there
 * naming any original topic in `datarun-dlq-topic`. A replay publishes to that topic with the
 * operator's authority, so the relay replays only what it can trust the origin of:
 * - what datarun itself dead-lettered (the relay's status consumer and record ingest) carries a
 *   seal by datarun (HS256 under a key derived from the material link key, which only datarun holds);
 * - what a recipient's connector dead-lettered carries its member's signature, and its original
 *   topic must be one that member's requests arrive on (RecipientDirectory, topicsOf).
 * Anything else is recorded as planted.
 */
@Injectable()
export class DeadLetterSeal {
  private readonly key: Buffer;

  constructor(
    keys: KeyRing,
    private readonly members: MemberKeyDirectory,
    private readonly recipients: RecipientDirectory,
  ) {
    this.key = platformSealKey(keys.require('materialLinkKey'));
  }

  /** A dead letter of datarun's own, sealed: what the relay publishes to the dead-letter topic. */
  letter(original: OriginalMessage, reason: string, by: string): Promise<Message> {
    return sealedDeadLetter(original, reason, by, platformSealer(this.key));
  }

  /** Checks the seal of a message read from the dead-letter topic. */
  async check(message: { readonly key: Buffer | null; readonly value: Buffer | null; readonly headers?: IHeaders }): Promise<SealVerdict> {
    const planted = (reason: string): SealVerdict => ({ sealed: false, reason });
    const seal = headerText(message.headers, DLQ_HEADERS.seal);
    if (seal === undefined || seal === '') return planted(`no ${DLQ_HEADERS.seal} header`);
    const parts = DETACHED_JWS.exec(seal);
    if (!parts) return planted(`${DLQ_HEADERS.seal} is not a detached JWS`);
    let header: Record<string, unknown>;
    try {
      header = decodeProtectedHeader({ protected: parts[1] });
    } catch {
      return planted(`${DLQ_HEADERS.seal}: the protected header is not a JSON object`);
    }
    const bytes = sealedBytes(message);
    const topic = headerText(message.headers, DLQ_HEADERS.topic) ?? '';

    if (header.alg === 'HS256') {
      if (header.kid !== PLATFORM_SEAL_KID || header.crit !== undefined || header.b64 !== undefined) return planted(`${DLQ_HEADERS.seal}: not datarun's seal`);
      try {
        await flattenedVerify({ protected: parts[1], payload: bytes.toString('base64url'), signature: parts[2] }, this.key, { algorithms: ['HS256'] });
      } catch {
        return planted(`${DLQ_HEADERS.seal}: datarun's seal does not verify (the dead letter was altered or not sealed by datarun)`);
      }
      return { sealed: true, by: PLATFORM_SEAL_KID };
    }

    // A member's seal: the one verifier of signed events, bound to the dead-letter topic.
    const member = header[BOUND.source];
    if (typeof member !== 'string') return planted(`${DLQ_HEADERS.seal}: names no sealing member`);
    const check = await verifyEventSignature(bytes, seal, { topic: DEAD_LETTER_TOPIC, source: member, subject: message.key?.toString() ?? '' }, this.members);
    if (!check.ok) return planted(`${DLQ_HEADERS.seal}: ${check.reason}`);
    const recipient = await this.recipients.of(member);
    if (!recipient || !topicsOf(recipient).includes(topic))
      return planted(`sealed by ${JSON.stringify(member)}, which receives no requests on ${JSON.stringify(topic)}`);
    return { sealed: true, by: member };
  }
}
