import { DATARUN_CONFIG, type DatarunConfig } from '@datarun/config';
import { Inject, Injectable } from '@nestjs/common';
import { type RequestKind, requestTopic } from './topics.js';

const REQUEST_KINDS: readonly RequestKind[] = ['transfer', 'discount'];

/**
 * Which member receives each utility kind's requests (UTILITY_RECIPIENTS, docs/configuration.md):
 * the one member whose signature a status of that kind's request needs, and whose seal a bridge's
 * dead letter of that kind's request topics needs. A matter names utility kinds, not members, and
 * the registry does not yet record which member registered as a kind's recipient, so the mapping
 * is the relay's configuration; one place answers it.
 */
@Injectable()
export class UtilityRecipients {
  private readonly byKind: ReadonlyMap<string, string>;

  constructor(@Inject(DATARUN_CONFIG) config: Pick<DatarunConfig, 'transfers'>) {
    this.byKind = new Map(Object.entries(config.transfers.utilityRecipients));
  }

  /** The member that receives `kind`'s requests, or undefined when none is configured. */
  memberOf(kind: string): string | undefined {
    return this.byKind.get(kind);
  }

  /**
   * Whom an audit record names for `kind`'s side of an exchange: its member, or `utility:<kind>`
   * when none is configured (the record must still say which utility it was).
   */
  auditedMemberOf(kind: string): string {
    return this.memberOf(kind) ?? `utility:${kind}`;
  }

  /** Whether `topic` is one of the request topics of a kind `member` receives (what its bridge consumes and may dead-letter). */
  receivesOn(member: string, topic: string): boolean {
    for (const [kind, recipient] of this.byKind) {
      if (recipient === member && REQUEST_KINDS.some((request) => requestTopic(kind, request) === topic)) return true;
    }
    return false;
  }
}
