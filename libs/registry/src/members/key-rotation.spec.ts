import { generateKeyPairSync } from 'node:crypto';
import { type Jwks, publicJwkOf } from '@datarun/auth';
import { Problem } from '@datarun/problems';
import { REPLACED_KEY_OVERLAP_SECONDS, removeKey, rotateKeys, withConfiguredKeys } from './key-rotation.js';

const NOW = 1_800_000_000;
const key = (kid: string, exp?: number) => ({
  ...publicJwkOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, kid),
  ...(exp === undefined ? {} : { exp }),
});
const kids = (jwks: Jwks) => jwks.keys.map((k) => `${k.kid}${k.exp === undefined ? '' : `@${k.exp - NOW}`}`);
const code = (work: () => unknown) => {
  try {
    work();
  } catch (error) {
    return (error as Problem).code;
  }
  return 'no refusal';
};

describe('rotateKeys', () => {
  const old = key('k1');

  it('keeps a key the new set leaves out for the overlap, shown with its exp', () => {
    expect(kids(rotateKeys({ keys: [old] }, { keys: [key('k2')] }, NOW))).toEqual(['k2', `k1@${REPLACED_KEY_OVERLAP_SECONDS}`]);
  });

  it("keeps a replaced key's own earlier exp, and drops keys already expired", () => {
    const current = { keys: [key('k1', NOW + 60), key('gone', NOW - 1)] };
    expect(kids(rotateKeys(current, { keys: [key('k2')] }, NOW))).toEqual(['k2', 'k1@60']);
  });

  it('ends a key now when it is sent again with an exp in the past, and honours an exp the member chose', () => {
    expect(kids(rotateKeys({ keys: [old] }, { keys: [key('k2'), { ...old, exp: NOW }] }, NOW))).toEqual(['k2']);
    expect(kids(rotateKeys({ keys: [old] }, { keys: [key('k2'), { ...old, exp: NOW + 86400 }] }, NOW))).toEqual(['k2', 'k1@86400']);
  });

  it('replaces at once a different key sent under an existing kid', () => {
    const fresh = key('k1');
    expect(rotateKeys({ keys: [old] }, { keys: [fresh] }, NOW).keys).toEqual([fresh]);
  });

  it('refuses a set with no valid key, and one that would exceed ten keys with those in their overlap', () => {
    expect(code(() => rotateKeys({ keys: [old] }, { keys: [{ ...old, exp: NOW }] }, NOW))).toBe('VALIDATION_FAILED');
    const ten = Array.from({ length: 10 }, (_, i) => key(`n${i}`));
    expect(code(() => rotateKeys({ keys: [old] }, { keys: ten }, NOW))).toBe('VALIDATION_FAILED');
  });
});

describe('removeKey', () => {
  it('removes a key at once, never the last valid one, and names a key the member does not have', () => {
    expect(kids(removeKey({ keys: [key('k1'), key('k2', NOW + 60)] }, 'k2', NOW))).toEqual(['k1']);
    expect(code(() => removeKey({ keys: [key('k1'), key('k2', NOW - 1)] }, 'k1', NOW))).toBe('STATE_CONFLICT');
    expect(code(() => removeKey({ keys: [key('k1'), key('k2', NOW - 1)] }, 'k2', NOW))).toBe('KEY_NOT_FOUND');
    expect(code(() => removeKey({ keys: [key('k1')] }, 'k9', NOW))).toBe('KEY_NOT_FOUND');
  });
});

describe('withConfiguredKeys', () => {
  const configured = key('admin');

  it('creates the member with the configured keys', () => {
    expect(withConfiguredKeys(undefined, { keys: [configured] }, NOW)).toEqual({ keys: [configured] });
  });

  it('changes nothing when the configured key is there, and keeps a key the administrator rotated in', () => {
    const rotatedIn = key('admin-2026');
    expect(withConfiguredKeys({ keys: [configured, rotatedIn] }, { keys: [configured] }, NOW)).toBeUndefined();
  });

  it('puts the configured key back beside the rotated ones, after it was replaced or removed', () => {
    const rotatedIn = key('admin-2026');
    expect(withConfiguredKeys({ keys: [rotatedIn] }, { keys: [configured] }, NOW)?.keys).toEqual([configured, rotatedIn]);
    // In its overlap after a PUT that left it out: configured again, it is valid again (no exp).
    expect(withConfiguredKeys({ keys: [rotatedIn, { ...configured, exp: NOW + 60 }] }, { keys: [configured] }, NOW)?.keys).toEqual([configured, rotatedIn]);
  });

  it('drops expired keys when it writes', () => {
    expect(kids(withConfiguredKeys({ keys: [key('old', NOW - 1)] }, { keys: [configured] }, NOW)!)).toEqual(['admin']);
  });
});
