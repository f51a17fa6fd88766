import type { KeyObject } from 'node:crypto';

/** What a caller may be. Members have one kind each; citizens are not members (docs/security.md). */
export type Role = 'department' | 'consumer' | 'utility' | 'auditor' | 'admin' | 'citizen';

/** The kind a registered member has: every role but `citizen`. */
export type MemberKind = Exclude<Role, 'citizen'>;

export const MEMBER_KINDS: readonly MemberKind[] = ['department', 'consumer', 'utility', 'auditor', 'admin'];

/** Who is asking, as proven by a verified token. */
export interface Caller {
  /** The member id (the token's `iss`); for citizens, the identity provider's issuer. */
  readonly memberId: string;
  readonly role: Role;
  /** The acting person: the token's `sub` (clerk staff number, `system`, or a citizen's ID number). */
  readonly actor: string;
}

/** A member's verification keys, by key id. */
export interface MemberKeys {
  readonly memberId: string;
  readonly kind: MemberKind;
  /** The keys that verify. None while the member is suspended: every signature check refuses it. */
  readonly keys: ReadonlyMap<string, KeyObject>;
  /**
   * Only while the member is suspended: its keys, for the token verifier alone, to tell a token
   * the member really signed (403 MEMBER_SUSPENDED) from a forgery (401 TOKEN_INVALID, which tells
   * a stranger nothing). Every other reader of `keys` refuses a suspended member without knowing.
   */
  readonly suspendedKeys?: ReadonlyMap<string, KeyObject>;
}

/**
 * Where the verifier finds a member's public keys. Implementations are expected to keep the
 * keys in memory and to hand out the same KeyObject instance for as long as a key is unchanged:
 * the verifier's token cache compares instances to notice rotation and removal. An abstract class
 * rather than an interface so that it is also the injection token: the registry provides the
 * member table's directory under it, and the guard's TokenVerifier asks for it.
 */
export abstract class KeyDirectory {
  abstract find(memberId: string): Promise<MemberKeys | undefined>;
}
