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
 * is unchanged, which keeps the verifier's token cache valid.
 */
@Injectable()
export class MemberKeyDirectory implements KeyDirectory {
  static readonly TTL_MS = 5000;
  private readonly entries = new Map<string, { value: Promise<MemberKeys | undefined>; expires: number; jwks?: string }>();

  constructor(private readonly dataSource: DataSource) {}

  find(memberId: string): Promise<MemberKeys | undefined> {
    const now = Date.now();
    const entry = this.entries.get(memberId);
    if (entry && entry.expires > now) return entry.value;
    const value = this.load(memberId, entry);
    this.entries.set(memberId, { value, expires: now + MemberKeyDirectory.TTL_MS });
    value.catch(() => this.entries.delete(memberId)); // never cache a failed read
    return value;
  }

  invalidate(memberId: string): void {
    this.entries.delete(memberId);
  }

  private async load(memberId: string, previous?: { value: Promise<MemberKeys | undefined> }): Promise<MemberKeys | undefined> {
    const member = await this.dataSource.getRepository(MemberEntity).findOne({ select: { kind: true, jwks: true }, where: { id: memberId } });
    if (!member) return undefined;
    // A key past its `exp` (a replaced key whose overlap ended) verifies nothing, here as in every
    // process, within the entry's few seconds.
    const fresh = unexpiredKeyObjects(member.jwks as unknown as Jwks);
    // Keep the previous KeyObject for an unchanged key so cached tokens stay valid.
    const old = await previous?.value.catch(() => undefined);
    const keys = new Map<string, KeyObject>();
    for (const [kid, key] of fresh) {
      const kept = old?.keys.get(kid);
      keys.set(kid, kept && kept.equals(key) ? kept : key);
    }
    return { memberId, kind: member.kind, keys };
  }
}
