// Members with real key pairs, registered through the registry's HTTP API, and their tokens.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintToken, publicJwkOf } from '@datarun/auth';
import type { TestApp } from './apps.js';
import { uniqueName } from './infra.js';

export interface TestMember {
  readonly id: string;
  readonly kind: string;
  readonly privateKey: KeyObject;
  readonly kid: string;
  /** A fresh token; `sub` is the acting person (default a clerk number). */
  token(subject?: string): Promise<string>;
  /** `Authorization` header value. */
  auth(subject?: string): Promise<string>;
}

export function keyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

export function memberWithKey(id: string, kind: string, pair = keyPair(), kid = `${id}-k1`): TestMember {
  const token = (subject = 'clerk-0001') => mintToken({ issuer: id, kid, privateKey: pair.privateKey, subject });
  return { id, kind, privateKey: pair.privateKey, kid, token, auth: async (s) => `Bearer ${await token(s)}` };
}

/** An administrator key pair whose public half is written where the config can point at it. */
export function adminKeyFile(): { admin: TestMember; publicKeyPath: string } {
  const pair = keyPair();
  const dir = mkdtempSync(join(tmpdir(), 'datarun-admin-'));
  const publicKeyPath = join(dir, 'admin.pub.pem');
  writeFileSync(publicKeyPath, pair.publicKey.export({ type: 'spki', format: 'pem' }));
  return { admin: memberWithKey('datarun.admin', 'admin', pair, 'admin'), publicKeyPath };
}

/** A member id of this test run that starts with `prefix`. */
export function uniqueMemberId(prefix: string): string {
  return uniqueName(prefix).replaceAll('_', '-').toLowerCase();
}

/**
 * Registers a new member of the kind through POST /v1/members, as the admin; under `id` when the
 * test chose it beforehand (e.g. to configure an app with it before the member exists), with the
 * registered `name` a test may want to see again (e.g. in a case's recipients).
 */
export async function registerMember(
  t: TestApp,
  admin: TestMember,
  kind: string,
  prefix = `zj.test.${kind}`,
  id = uniqueMemberId(prefix),
  name = `测试 ${kind}`,
  recipient?: RecipientSettings,
): Promise<TestMember> {
  const pair = keyPair();
  const member = memberWithKey(id, kind, pair);
  await t.http
    .post('/v1/members')
    .set('authorization', await admin.auth('admin-1'))
    .send({ id, name, kind, jwks: { keys: [publicJwkOf(pair.publicKey, member.kid)] }, ...(recipient ? { recipient } : {}) })
    .expect(201);
  return member;
}

/** How a recipient takes delivery (POST /v1/members `recipient`, docs/api.md). */
export interface RecipientSettings {
  readonly delivery: 'kafka' | 'webhook';
  readonly endpoint?: string;
  readonly requests: ReadonlyArray<'transfer' | 'discount' | 'benefit'>;
  readonly utilityKind?: string;
}

/** The utility kinds the demo matters notify: the property transfer's five (cable and broadband when the case names them), the allowance's discounts. */
export const UTILITY_KINDS = ['water', 'electricity', 'gas', 'cable', 'broadband'] as const;
export type UtilityKind = (typeof UTILITY_KINDS)[number];

/** The name each utility member registers with: a case names its recipients by them. */
export const UTILITY_NAMES: Record<UtilityKind, string> = {
  water: '测试市自来水公司',
  electricity: '测试市供电公司',
  gas: '测试市燃气公司',
  cable: '测试市广电网络公司',
  broadband: '测试市宽带网络公司',
};
