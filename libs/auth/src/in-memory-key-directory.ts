import type { KeyDirectory, MemberKeys } from './types.js';

/** A fixed KeyDirectory: the configured admin key at boot, and tests. */
export class InMemoryKeyDirectory implements KeyDirectory {
  private readonly members = new Map<string, MemberKeys>();

  constructor(members: Iterable<MemberKeys> = []) {
    for (const member of members) this.set(member);
  }

  /** Adds or replaces a member (replacing its keys is how a rotation looks to the verifier). */
  set(member: MemberKeys): void {
    this.members.set(member.memberId, member);
  }

  delete(memberId: string): void {
    this.members.delete(memberId);
  }

  async find(memberId: string): Promise<MemberKeys | undefined> {
    return this.members.get(memberId);
  }
}
