// The audit keys a test signs checkpoints with, as the audit app holds them: the signing key under
// its kid, and the trusted public keys by kid.
import type { KeyObject } from 'node:crypto';
import type { AuditKeys } from '@datarun/audit';

export function auditKeysOf(pair: { privateKey: KeyObject; publicKey: KeyObject }, kid = 'audit'): AuditKeys {
  return { signing: { kid, privateKey: pair.privateKey }, trusted: new Map([[kid, pair.publicKey]]) };
}
