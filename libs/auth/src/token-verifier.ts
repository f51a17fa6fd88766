import type { KeyObject } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import { isIdNumber } from '@datarun/identity';
import { Problem } from '@datarun/problems';
import { algorithmForKey } from './jws-algorithm.js';
import type { Caller, KeyDirectory, Role } from './types.js';

export const DATARUN_AUDIENCE = 'datarun';
export const CITIZEN_IDP_ISSUER = 'citizen-idp';

export interface TokenVerifierOptions {
  /** Required `aud`. Default `datarun`. */
  audience?: string;
  /** Largest accepted `exp - iat`, seconds. Default 600 (docs/api.md). */
  maxLifetimeSec?: number;
  /** Clock skew tolerated on `exp`, `nbf` and `iat`, seconds. Default 60. */
  clockSkewSec?: number;
  /** Citizen tokens: `iss` equal to `issuer` is verified with these keys and gets role `citizen`. */
  citizenIdp?: { issuer: string; keys: ReadonlyMap<string, KeyObject> };
  /** Verified tokens kept (LRU). Default 10 000; 0 turns the cache off. */
  cacheSize?: number;
  /** The clock, in milliseconds since the epoch (like Date.now). */
  now?: () => number;
}

/** Checked by us first, for a clear refusal, and demanded of jose again on the verified claims. */
const REQUIRED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'iat'];
/** Bounds the work an unauthenticated caller can ask for before anything is parsed. */
const MAX_TOKEN_LENGTH = 8192;
/**
 * The caller-controlled strings of a token are limited before anything else is done with them:
 * `sub` becomes the actor of audit records, log lines and CSV exports, `iss` a directory read.
 * `iss` has the shape of a member id (the registry's rule), so that any other string costs no read.
 */
const ISSUER = /^[a-z0-9][a-z0-9.-]{1,127}$/;
/** Printable text: no control or format characters (bidi overrides, zero-width), line separators or unpaired surrogates. */
const ACTOR = /^[^\p{C}\p{Zl}\p{Zp}]{1,128}$/u;
/** Key ids are only looked up, never stored; a member's own kid may be any printable string. */
const KEY_ID = /^[^\p{C}]{1,256}$/u;
/**
 * One answer for unknown member, unknown kid, a key of the wrong type and a bad signature, so a
 * refusal does not tell a stranger which members and key ids exist.
 */
const NOT_SIGNED_BY_REGISTERED_KEY = 'unknown signing key or invalid signature';
const PASS_THROUGH_CODES = new Set(['TOKEN_MISSING', 'TOKEN_INVALID', 'TOKEN_EXPIRED', 'MEMBER_SUSPENDED', 'SERVICE_UNAVAILABLE']);

interface CacheEntry {
  readonly caller: Caller;
  readonly exp: number;
  readonly iss: string;
  readonly kid: string;
  readonly key: KeyObject;
}

interface KeyChoice {
  readonly key: KeyObject;
  readonly role: Role;
  /** The member is suspended: its genuine token is refused, after its signature is checked. */
  readonly suspended?: boolean;
}

/**
 * Verifies `Authorization: Bearer <JWT>` by the rules of docs/api.md "Calling datarun" and answers
 * who is calling. jose parses the token and checks the signature, `aud`, `exp` and `nbf`; on top
 * of it we choose the key (by `iss` and `kid`, from the KeyDirectory only), pin the algorithm to
 * that key's type (`algorithms: [alg]`), and check what jose does not: the lifetime, `iat` not in
 * the future, the shape of `iss` and `sub`, no `crit`. The token's header is read only to pick the
 * key and is never trusted for anything else: key-carrying headers (`jku`, `x5u`, `jwk`, `x5c`)
 * are not looked at. Every failure is a TOKEN_* Problem; anything unexpected fails closed as
 * TOKEN_INVALID.
 */
export class TokenVerifier {
  private readonly audience: string;
  private readonly maxLifetimeSec: number;
  private readonly clockSkewSec: number;
  private readonly citizenIdp?: { issuer: string; keys: ReadonlyMap<string, KeyObject> };
  private readonly cacheSize: number;
  private readonly now: () => number;
  /** Token string → verified caller; a Map iterates in insertion order, which makes it an LRU. */
  private readonly cache = new Map<string, CacheEntry>();

  constructor(
    private readonly directory: KeyDirectory,
    options: TokenVerifierOptions = {},
  ) {
    this.audience = options.audience ?? DATARUN_AUDIENCE;
    this.maxLifetimeSec = options.maxLifetimeSec ?? 600;
    this.clockSkewSec = options.clockSkewSec ?? 60;
    this.citizenIdp = options.citizenIdp;
    this.cacheSize = options.cacheSize ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  async verify(authorization: string | undefined): Promise<Caller> {
    const token = bearerToken(authorization);
    try {
      return await this.verifyToken(token);
    } catch (error) {
      if (error instanceof Problem && PASS_THROUGH_CODES.has(error.code)) throw error;
      throw new Problem('TOKEN_INVALID', 'the token could not be verified');
    }
  }

  private async verifyToken(token: string): Promise<Caller> {
    const nowSec = Math.floor(this.now() / 1000);
    const cached = await this.fromCache(token, nowSec);
    if (cached) return cached;

    if (token.length > MAX_TOKEN_LENGTH) throw invalid('the token is too long');
    // Unverified: read to choose the key and to refuse cheaply before a directory lookup and a
    // signature check. jwtVerify below parses the same bytes again and verifies them.
    const { header, claims } = decodeUnverified(token);

    const alg = header.alg;
    if (alg !== 'RS256' && alg !== 'ES256') throw invalid('alg must be RS256 or ES256');
    const kid = header.kid;
    if (typeof kid !== 'string' || kid.length === 0) throw invalid('kid is required');
    if (!KEY_ID.test(kid)) throw invalid('kid must be a key id of at most 256 printable characters');
    // RFC 7515 §4.1.11: a critical extension we do not understand makes the token invalid. jose
    // would accept `crit: ["b64"]`; we accept no extension at all.
    if (header.crit !== undefined) throw invalid('crit header parameters are not supported');

    const iss = claims.iss;
    if (typeof iss !== 'string' || !ISSUER.test(iss)) {
      throw invalid('iss must be the member id (2 to 128 lower-case letters, digits, dots and hyphens)');
    }
    const { exp } = checkLifetime(claims, nowSec, this.maxLifetimeSec, this.clockSkewSec);
    const actor = claims.sub;
    if (typeof actor !== 'string' || !ACTOR.test(actor)) {
      throw invalid('sub must be the acting person: 1 to 128 printable characters');
    }
    if (iss === this.citizenIdp?.issuer && !isIdNumber(actor)) throw invalid("sub must be the citizen's ID number");

    const choice = await this.findKey(iss, kid);
    if (!choice || algorithmForKey(choice.key) !== alg) throw invalid(NOT_SIGNED_BY_REGISTERED_KEY);

    try {
      await jwtVerify(token, choice.key, {
        algorithms: [alg],
        audience: this.audience,
        requiredClaims: REQUIRED_CLAIMS,
        clockTolerance: this.clockSkewSec,
        currentDate: new Date(nowSec * 1000),
      });
    } catch (error) {
      throw fromJoseError(error, this.audience);
    }
    if (choice.suspended) throw new Problem('MEMBER_SUSPENDED', `member ${iss} is suspended: its tokens are refused until an administrator reinstates it`);

    const caller: Caller = Object.freeze({
      memberId: iss,
      role: choice.role,
      actor,
    });
    this.remember(token, { caller, exp, iss, kid, key: choice.key });
    return caller;
  }

  private async findKey(iss: string, kid: string): Promise<KeyChoice | undefined> {
    if (this.citizenIdp && iss === this.citizenIdp.issuer) {
      const key = this.citizenIdp.keys.get(kid);
      return key && { key, role: 'citizen' };
    }
    const member = await this.directory.find(iss).catch(() => {
      // The directory could not be read (the database is down): not the caller's fault, and not a
      // verdict on the token. 503, so that clients retry and operators look at the dependency
      // (readiness names it and logs why); the answer repeats nothing of the error.
      throw new Problem('SERVICE_UNAVAILABLE', 'the member directory cannot be read now; try again shortly');
    });
    const key = member?.keys.get(kid);
    if (member && key) return { key, role: member.kind };
    const held = member?.suspendedKeys?.get(kid);
    return member && held && { key: held, role: member.kind, suspended: true };
  }

  /**
   * A cached caller is good while its token has not expired and the directory still hands out
   * the very KeyObject that verified it (and the member still has the same kind): a rotated or
   * removed key, or a changed member, sends the token through full verification again.
   */
  private async fromCache(token: string, nowSec: number): Promise<Caller | undefined> {
    const entry = this.cache.get(token);
    if (!entry) return undefined;
    this.cache.delete(token);
    if (nowSec >= entry.exp + this.clockSkewSec) return undefined;
    const current = await this.findKey(entry.iss, entry.kid);
    if (current?.key !== entry.key || current.role !== entry.caller.role || current.suspended) return undefined;
    this.cache.set(token, entry);
    return entry.caller;
  }

  private remember(token: string, entry: CacheEntry): void {
    if (this.cacheSize <= 0) return;
    this.cache.delete(token);
    this.cache.set(token, entry);
    while (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next();
      if (oldest.done) break;
      this.cache.delete(oldest.value);
    }
  }
}

function bearerToken(authorization: string | undefined): string {
  if (typeof authorization !== 'string') throw new Problem('TOKEN_MISSING', 'send Authorization: Bearer <token>');
  const match = /^\s*(\S+)(?:\s+(.*?))?\s*$/s.exec(authorization);
  // The auth-scheme is case-insensitive (RFC 9110 §11.1).
  if (!match || match[1].toLowerCase() !== 'bearer' || !match[2]) {
    throw new Problem('TOKEN_MISSING', 'send Authorization: Bearer <token>');
  }
  const token = match[2];
  if (/\s/.test(token)) throw invalid('the token is not a signed JWT');
  return token;
}

function checkLifetime(payload: Record<string, unknown>, nowSec: number, maxLifetimeSec: number, skewSec: number): { exp: number; iat: number } {
  const { exp, iat } = payload;
  if (!isNumericDate(exp) || !isNumericDate(iat)) throw invalid('exp and iat are required NumericDates');
  if (exp <= iat) throw invalid('exp must be after iat');
  if (exp - iat > maxLifetimeSec) throw invalid(`the token lifetime exceeds ${maxLifetimeSec} s`);
  if (iat > nowSec + skewSec) throw invalid('iat is in the future');
  return { exp, iat };
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function fromJoseError(error: unknown, audience: string): Problem {
  if (error instanceof errors.JWTExpired) return new Problem('TOKEN_EXPIRED', 'the token has expired');
  if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'aud') return invalid(`aud must be ${audience}`);
  if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'nbf') return invalid('the token is not valid yet (nbf)');
  if (error instanceof errors.JWSSignatureVerificationFailed) return invalid(NOT_SIGNED_BY_REGISTERED_KEY);
  return invalid('the token could not be verified');
}

function decodeUnverified(token: string): { header: ProtectedHeaderParameters; claims: JWTPayload } {
  try {
    return { header: decodeProtectedHeader(token), claims: decodeJwt(token) };
  } catch {
    throw invalid('the token is not a signed JWT');
  }
}

function invalid(detail: string): Problem {
  return new Problem('TOKEN_INVALID', detail);
}
