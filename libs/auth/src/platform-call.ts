import { createPublicKey, type KeyObject, randomUUID, sign } from 'node:crypto';
import { decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { Problem } from '@datarun/problems';
import { type Jwks, publicJwkOf } from './jwks.js';
import type { PlatformSigningKey } from './key-ring.js';

/** `iss` of the tokens datarun's own calls carry (a federated lookup; later, webhooks). */
export const PLATFORM_ISSUER = 'datarun';
/** `typ` of those tokens: a department can tell them from anything else signed by the platform. */
export const PLATFORM_CALL_TYPE = 'datarun-call+jwt';
/** A minute: one call, its retries included, and a little clock skew at the department. */
export const PLATFORM_CALL_LIFETIME_SEC = 60;

/** What a federated call is for: the department reads why datarun asks, for whom and under which case. */
export interface PlatformCallClaims {
  /** `aud`: the data source the department serves (its endpoint's source id). */
  readonly audience: string;
  /** `sub`: the consumer member on whose behalf datarun calls. */
  readonly member: string;
  /** `act.sub` (RFC 8693 actor): the acting person at that member, the clerk's staff number. */
  readonly actor: string;
  /** The matter code the data is read for (purpose binding). */
  readonly purpose: string;
  readonly caseId: string;
  /** The lookup's correlation id, as the `x-request-id` header carries it too. */
  readonly correlationId: string;
  /**
   * `htm` and `htu` (as in DPoP, RFC 9449): the one request the token is for, so that a token a
   * department logged cannot be replayed to ask it about another person.
   */
  readonly method: string;
  readonly url: string;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Signs the token of one federated call with the platform key (ES256, node:crypto, synchronous):
 * a JWS compact of a minute, made per call because the correlation id differs per call. Under a
 * tenth of a millisecond (measured), cheaper than the connection it rides on.
 */
export class PlatformCallSigner {
  private readonly header: string;

  constructor(
    private readonly key: PlatformSigningKey,
    private readonly now: () => number = Date.now,
  ) {
    this.header = b64({ alg: 'ES256', kid: key.kid, typ: PLATFORM_CALL_TYPE });
  }

  sign(claims: PlatformCallClaims): string {
    const iat = Math.floor(this.now() / 1000);
    const payload = b64({
      iss: PLATFORM_ISSUER,
      aud: claims.audience,
      sub: claims.member,
      act: { sub: claims.actor },
      purpose: claims.purpose,
      caseId: claims.caseId,
      correlationId: claims.correlationId,
      htm: claims.method,
      htu: claims.url,
      jti: randomUUID(),
      iat,
      exp: iat + PLATFORM_CALL_LIFETIME_SEC,
    });
    const input = `${this.header}.${payload}`;
    const signature = sign('sha256', Buffer.from(input), { key: this.key.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    return `${input}.${signature}`;
  }
}

/** The platform's public keys as a JWKS: the signing key's half first, then the other kids (retired keys during a rotation). */
export function platformJwks(signing: PlatformSigningKey, published: ReadonlyMap<string, KeyObject> = new Map()): Jwks {
  // The public half only: a private key's JWK export would carry `d`.
  const keys = [publicJwkOf(createPublicKey(signing.privateKey), signing.kid)];
  for (const [kid, key] of published) if (kid !== signing.kid) keys.push(publicJwkOf(key, kid));
  return { keys };
}

export interface PlatformCallCheck {
  /** The source the department serves: the token's `aud` must name it. */
  readonly audience: string;
  /**
   * The request the token came with: `htm` must be its method and the path of `htu` its path (the
   * host is left out, which a proxy in front of the department may change).
   */
  readonly request: { readonly method: string; readonly path: string };
  /** The clock, in milliseconds since the epoch (like Date.now). */
  readonly now?: () => number;
}

/**
 * What a department does with the `authorization` header of a call from datarun: a bearer token
 * signed by a platform key of the given kid (ES256 only), issued by datarun for this department's
 * source and this very request, of at most two minutes, with purpose, case, actor and correlation
 * id. 401 TOKEN_MISSING,
 * TOKEN_EXPIRED or TOKEN_INVALID otherwise, in words that name no key.
 */
export async function verifyPlatformCall(
  authorization: string | undefined,
  keys: ReadonlyMap<string, KeyObject>,
  check: PlatformCallCheck,
): Promise<PlatformCallClaims> {
  const token = /^Bearer ([A-Za-z0-9._-]{1,4096})$/.exec(authorization ?? '')?.[1];
  if (!token) throw new Problem('TOKEN_MISSING', 'a call to a department carries a platform token (Authorization: Bearer)');
  const invalid = () => new Problem('TOKEN_INVALID', 'not a platform token for this department');
  let key: KeyObject | undefined;
  try {
    const header = decodeProtectedHeader(token);
    key = typeof header.kid === 'string' && header.typ === PLATFORM_CALL_TYPE && !header.crit ? keys.get(header.kid) : undefined;
  } catch {
    throw invalid();
  }
  if (!key) throw invalid();
  const nowSec = Math.floor((check.now ?? Date.now)() / 1000);
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: ['ES256'],
      issuer: PLATFORM_ISSUER,
      audience: check.audience,
      typ: PLATFORM_CALL_TYPE,
      requiredClaims: ['iat', 'exp', 'sub', 'act', 'purpose', 'caseId', 'correlationId', 'htm', 'htu'],
      maxTokenAge: 2 * PLATFORM_CALL_LIFETIME_SEC,
      clockTolerance: 30,
      currentDate: new Date(nowSec * 1000),
    });
    const actor = (payload.act as { sub?: unknown } | undefined)?.sub;
    const strings = [payload.sub, actor, payload.purpose, payload.caseId, payload.correlationId];
    if (!strings.every((s) => typeof s === 'string' && s.length > 0 && s.length <= 128)) throw invalid();
    if ((payload.exp as number) - (payload.iat as number) > 2 * PLATFORM_CALL_LIFETIME_SEC) throw invalid();
    if (payload.htm !== check.request.method || pathOf(payload.htu) !== check.request.path) throw invalid();
    return {
      audience: check.audience,
      member: payload.sub as string,
      actor: actor as string,
      purpose: payload.purpose as string,
      caseId: payload.caseId as string,
      correlationId: payload.correlationId as string,
      method: payload.htm as string,
      url: payload.htu as string,
    };
  } catch (error) {
    if (error instanceof Problem) throw error;
    if (error instanceof errors.JWTExpired) throw new Problem('TOKEN_EXPIRED', 'the platform token has expired');
    throw invalid();
  }
}

/** The path of an absolute URL, as sent (percent-encoding kept); undefined for anything else. */
function pathOf(url: unknown): string | undefined {
  if (typeof url !== 'string') return undefined;
  try {
    return new URL(url).pathname;
  } catch {
    return undefined;
  }
}
