import { type Jwks, keyExpired, MAX_JWKS_KEYS, type PublicJwk } from '@datarun/auth';
import { Problem } from '@datarun/problems';

/**
 * How long a key that a replacement leaves out keeps verifying. A token lives at most 600 s, but a
 * signed record or status may wait in a Kafka topic longer than that, and a member's signers do not
 * all move to the new key in the same second; an hour covers both. A member that wants another
 * overlap sends the old key with its own `exp`; a leaked key is removed at once (removeKey).
 */
export const REPLACED_KEY_OVERLAP_SECONDS = 3600;

/** A member's keys after `PUT /v1/members/{id}/keys`, valid at `nowSec`. */
export function rotateKeys(current: Jwks, incoming: Jwks, nowSec: number): Jwks {
  const named = new Set(incoming.keys.map((k) => k.kid));
  // A key left out keeps verifying for the overlap (or until its own, earlier, exp); a key sent
  // again under its kid is what was sent, so an `exp` in the past ends it now.
  const retiring = current.keys
    .filter((k) => !named.has(k.kid) && !keyExpired(k, nowSec))
    .map((k) => ({ ...k, exp: Math.min(k.exp ?? Number.POSITIVE_INFINITY, nowSec + REPLACED_KEY_OVERLAP_SECONDS) }));
  const keys = [...incoming.keys.filter((k) => !keyExpired(k, nowSec)), ...retiring];
  if (incoming.keys.every((k) => keyExpired(k, nowSec))) {
    throw new Problem('VALIDATION_FAILED', 'jwks: at least one of the keys sent must be valid now (no exp, or an exp ahead)');
  }
  if (keys.length > MAX_JWKS_KEYS) {
    throw new Problem(
      'VALIDATION_FAILED',
      `jwks: with the ${retiring.length} replaced key(s) still in their overlap (${retiring.map((k) => k.kid).join(', ')}) the member would hold ${keys.length} keys, at most ${MAX_JWKS_KEYS}; send fewer, or remove a replaced key first (DELETE /v1/members/{id}/keys/{kid})`,
    );
  }
  return { keys };
}

/**
 * A member's keys after the key `kid` is removed, at once: the way to stop a leaked key. The
 * member keeps at least one valid key (a member without keys could not even rotate back in).
 */
export function removeKey(current: Jwks, kid: string, nowSec: number): Jwks {
  if (!current.keys.some((k) => k.kid === kid && !keyExpired(k, nowSec))) throw new Problem('KEY_NOT_FOUND', `the member has no valid key ${kid}`);
  const keys = current.keys.filter((k) => k.kid !== kid && !keyExpired(k, nowSec));
  if (keys.length === 0) throw new Problem('STATE_CONFLICT', `${kid} is the member's last valid key: add its new key first (PUT /v1/members/{id}/keys)`);
  return { keys };
}

/**
 * A member's keys when configuration names some (the administrator's key at every registry start,
 * the demo members' development keys): each configured key is there, as configured; every other
 * valid key stays, so a key the administrator rotated in is not undone by a restart. Configuration
 * only adds: to retire a configured key, take it out of the configuration, then remove it.
 * Returns undefined when nothing changes.
 */
export function withConfiguredKeys(current: Jwks | undefined, configured: Jwks, nowSec: number): Jwks | undefined {
  if (!current) return configured;
  const named = new Set(configured.keys.map((k) => k.kid));
  const kept = current.keys.filter((k) => !named.has(k.kid) && !keyExpired(k, nowSec));
  const keys = [...configured.keys, ...kept].slice(0, MAX_JWKS_KEYS);
  const unchanged = configured.keys.every((c) => current.keys.some((k) => sameJwk(k, c))) && keys.length === current.keys.length;
  return unchanged ? undefined : { keys };
}

/** The same key under the same kid with the same expiry (member order aside). */
function sameJwk(a: PublicJwk, b: PublicJwk): boolean {
  const canonical = (k: PublicJwk) => JSON.stringify(Object.entries(k).sort(([x], [y]) => (x < y ? -1 : 1)));
  return canonical(a) === canonical(b);
}
