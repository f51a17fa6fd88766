import { Injectable } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import { DataSource } from 'typeorm';
import { type Jwks, type KeyDirectory, type MemberKeys, unexpiredKeyObjects } from '@datarun/auth';
import { MemberEntity } from './member.entity.js';

/**
 * The member-key port: members' public keys from the member table, as KeyObjects built once. The
 * registry module provides it as the `KeyDirectory` the guard's TokenVerifier asks for; record
 * ingest checks departments' signatures with it. Entries live for a few seconds so that a key
 * replaced in the registry is honoured by every replica soon after; in the registry's own process
 * a change drops the entry at once (`invalidate`). The same KeyObject instance is kept while a key
 * is unchanged, which keeps the verifier's token cache valid. An issuer that is no member is kept
 * too, as absent, for the same few seconds: a stranger's tokens cost one read per issuer and TTL,
 * not one per token. At most MAX_ENTRIES are kept, least recently used out first, as a stranger
 * can name any number of issuers.
 */
@Injectable()
export class MemberKeyDirectory implements KeyDirectory {
  static readonly TTL_MS = 5000;
  static readonly MAX_ENTRIES = 10_000;
  private readonly entries = new Map<string, { value: Promise<MemberKeys | undefined>; expires: number; jwks?: string }>();

  constructor(private readonly dataSource: DataSource) {}

  find(memberId: string): Promise<MemberKeys | undefined> {
    const now = Date.now();
    const entry = this.entries.get(memberId);
    // Re-inserted below: a Map iterates in insertion order, which makes it an LRU.
    if (entry) this.entries.delete(memberId);
    if (entry && entry.expires > now) {
      this.entries.set(memberId, entry);
      return entry.value;
    }
    const value = this.load(memberId, entry);
    this.entries.set(memberId, { value, expires: now + MemberKeyDirectory.TTL_MS });
    if (this.entries.size > MemberKeyDirectory.MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    value.catch(() => this.entries.delete(memberId)); // never cache a failed read
    return value;
  }

  invalidate(memberId: string): void {
    this.entries.delete(memberId);
  }

  private async load(memberId: string, previous?: { value: Promise<MemberKeys | undefined> }): Promise<MemberKeys | undefined> {
    const member = await this.dataSource.getRepository(MemberEntity).findOne({ select: { kind: true, jwks: true, state: true }, where: { id: memberId } });
    if (!member) return undefined;
    // A key past its `exp` (a replaced key whose overlap ended) verifies nothing, here as in every
    // process, within the entry's few seconds.
    const fresh = unexpiredKeyObjects(member.jwks as unknown as Jwks);
    // Keep the previous KeyObject for an unchanged key so cached tokens stay valid.
    const old = await previous?.value.catch(() => undefined);
    const keys = new Map<string, KeyObject>();
    for (const [kid, key] of fresh) {
      const kept = old?.keys.get(kid) ?? old?.suspendedKeys?.get(kid);
      keys.set(kid, kept && kept.equals(key) ? kept : key);
    }
    // A suspended member verifies nothing (no `keys`): tokens, signed records and statuses alike.
    if (member.state === 'suspended') return { memberId, kind: member.kind, keys: new Map(), suspendedKeys: keys };
    return { memberId, kind: member.kind, keys };
  }
}
