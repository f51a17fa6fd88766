import { createHmac, timingSafeEqual } from 'node:crypto';
import { type KeyRing, loadKeys } from '@datarun/auth';
import type { DatarunConfig } from '@datarun/config';
import { Problem } from '@datarun/problems';

export interface MaterialLinkClaims {
  readonly materialId: string;
  readonly requestId: string;
  /** The member the link was issued to (the request's recipient): only its token may fetch through it. */
  readonly recipient: string;
  /** Unix seconds. */
  readonly expiresAt: number;
}

/**
 * Signed, expiring links to a case material (a claim check: Kafka carries the link and the hash,
 * never the bytes). The signature covers the material, the request it was issued for, its
 * recipient and its expiry, so a link cannot be retargeted or extended. HMAC-SHA256 with a key the
 * relay (signer) and the gateway (checker) share.
 */
export class MaterialLinks {
  constructor(
    private readonly key: Buffer,
    private readonly baseUrl: string,
  ) {
    if (key.length < 32) throw new Error('the material link key must be at least 32 bytes');
  }

  url(claims: MaterialLinkClaims): string {
    const q = new URLSearchParams({ req: claims.requestId, to: claims.recipient, exp: String(claims.expiresAt), sig: this.sign(claims) });
    return `${this.baseUrl}/v1/materials/${claims.materialId}?${q.toString()}`;
  }

  /**
   * A request's body as its recipient receives it: the outbox's routed materials (ids) become
   * signed links issued to `recipient`, valid until `expiresAt`, and `sequence` (the row's outbox
   * position) orders it among the requests for the same property or account. The relay publishes
   * this and a recipient's pull (GET /v1/requests) shows it, so both carry the same body.
   */
  withLinks(
    payload: Readonly<Record<string, unknown>> & { materials: ReadonlyArray<{ type: string; sha256: string; materialId: string }> },
    requestId: string,
    recipient: string,
    expiresAt: number,
    sequence: string,
  ): Record<string, unknown> {
    const { materials, ...rest } = payload;
    return {
      ...rest,
      sequence: Number(sequence),
      materials: materials.map((m) => ({ type: m.type, sha256: m.sha256, url: this.url({ materialId: m.materialId, requestId, recipient, expiresAt }) })),
    };
  }

  /** Checks a link's query: an altered link is LINK_INVALID, a genuine one past its time LINK_EXPIRED (both 403). */
  check(materialId: string, query: Readonly<Record<string, unknown>>, now = Date.now()): MaterialLinkClaims {
    const { req, to, exp, sig } = query;
    if (typeof req !== 'string' || typeof to !== 'string' || typeof exp !== 'string' || typeof sig !== 'string' || !/^\d{1,12}$/.test(exp)) {
      throw new Problem('LINK_INVALID', 'this material link is not valid (req, to, exp and sig are required)');
    }
    const claims: MaterialLinkClaims = { materialId, requestId: req, recipient: to, expiresAt: Number(exp) };
    const expected = Buffer.from(this.sign(claims));
    const given = Buffer.from(sig);
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw new Problem('LINK_INVALID', 'this material link was altered or was not issued by datarun');
    if (claims.expiresAt * 1000 < now)
      throw new Problem('LINK_EXPIRED', `this material link expired at ${new Date(claims.expiresAt * 1000).toISOString()}; ask for the request to be re-sent`);
    return claims;
  }

  private sign(c: MaterialLinkClaims): string {
    return createHmac('sha256', this.key).update(`${c.materialId}\n${c.requestId}\n${c.recipient}\n${c.expiresAt}`).digest('base64url');
  }
}

/**
 * Whether `url` is a material link of datarun's gateway at `gatewayPublicUrl` (same origin, the
 * materials path, no credentials). A connector fetches nothing else: the link arrives in a Kafka
 * message, and whoever can write that topic could otherwise make the connector call any address
 * inside the recipient's network (SSRF).
 */
export function isMaterialLinkOf(url: string, gatewayPublicUrl: string): boolean {
  let link: URL;
  let gateway: URL;
  try {
    link = new URL(url);
    gateway = new URL(gatewayPublicUrl);
  } catch {
    return false;
  }
  const base = gateway.pathname.replace(/\/+$/, '');
  return (
    link.origin === gateway.origin &&
    link.username === '' &&
    link.password === '' &&
    link.hash === '' &&
    link.pathname.startsWith(`${base}/v1/materials/`) &&
    /^[A-Za-z0-9_-]+$/.test(link.pathname.slice(`${base}/v1/materials/`.length))
  );
}

/**
 * The links the relay signs and the gateway checks, keyed by DATARUN_MATERIAL_LINK_KEY from the
 * app's KeyRing (loaded and checked at boot); without one, the key is loaded here, the same way.
 */
export function materialLinksOf(config: DatarunConfig, keys: KeyRing = loadKeys(config, { required: ['materialLinkKey'] })): MaterialLinks {
  return new MaterialLinks(keys.require('materialLinkKey'), config.transfers.gatewayPublicUrl);
}
