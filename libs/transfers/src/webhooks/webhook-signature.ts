import type { KeyObject } from 'node:crypto';
import { InMemoryKeyDirectory, PLATFORM_ISSUER, type PlatformSigningKey } from '@datarun/auth';
import { type SignatureCheck, signEvent, verifyEventSignature } from '../signed-event.js';

/** The media type of a CloudEvent in structured mode (CloudEvents HTTP binding, JSON format). */
export const CLOUDEVENTS_JSON = 'application/cloudevents+json';

/**
 * What a webhook's `datarun-signature` binds besides the body, in the protected header of the one
 * event signer (signed-event.ts): `datarun-topic` is the endpoint URL the body was posted to,
 * `datarun-source` the platform (`datarun`, signing with its delivery key: kid `delivery` in
 * `GET /v1/platform/jwks`), `datarun-subject` the event id. So a recipient that received a request cannot post it on to another recipient
 * as datarun's (its endpoint differs), nor pass one request's body off under another's id.
 */
export function webhookBinding(endpoint: string, eventId: string): { topic: string; source: string; subject: string } {
  return { topic: endpoint, source: PLATFORM_ISSUER, subject: eventId };
}

/** Signs the exact bytes posted to `endpoint`: the value of the webhook's `datarun-signature` header. */
export function signWebhook(body: Buffer | string, to: { endpoint: string; eventId: string }, key: PlatformSigningKey, at: Date = new Date()): Promise<string> {
  return signEvent(body, { ...webhookBinding(to.endpoint, to.eventId), time: at.toISOString() }, key.privateKey, key.kid);
}

/**
 * What a recipient checks (the sandbox's webhooks do): the signature is datarun's, by a delivery key
 * (`platformKeys`: the JWKS's `delivery` key only, never the keys of federated calls), over these
 * bytes, for this endpoint and this event id.
 */
export function verifyWebhookSignature(
  body: Buffer,
  signature: string | undefined,
  to: { endpoint: string; eventId: string },
  platformKeys: ReadonlyMap<string, KeyObject>,
  now: Date = new Date(),
): Promise<SignatureCheck> {
  const platform = new InMemoryKeyDirectory([{ memberId: PLATFORM_ISSUER, kind: 'admin', keys: platformKeys }]);
  return verifyEventSignature(body, signature, webhookBinding(to.endpoint, to.eventId), platform, now);
}
