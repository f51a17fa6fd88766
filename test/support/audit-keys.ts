// The audit keys a test signs checkpoints with, as the audit app holds them: the signing key under
// its kid, and the trusted public keys by kid.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditKeys } from '@datarun/audit';
import type { DatarunConfig } from '@datarun/config';

export function auditKeysOf(pair: { privateKey: KeyObject; publicKey: KeyObject }, kid = 'audit'): AuditKeys {
  return { signing: { kid, privateKey: pair.privateKey }, trusted: new Map([[kid, pair.publicKey]]) };
}

/** `config` with a fresh audit signing key of its own (in a temporary folder), for booting an audit app. */
export function withAuditSigningKey(config: DatarunConfig): DatarunConfig {
  const file = join(mkdtempSync(join(tmpdir(), 'datarun-audit-key-')), 'audit.key.pem');
  writeFileSync(file, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return { ...config, keys: { ...config.keys, auditSigningKey: file } };
}
