/**
 * Disclosures to a recipient, as the audit log records them for the subject whose data they carry:
 * a request the relay sent (`transfer.requested`, `discount.requested`, `benefit.requested`: the relay acted, so the
 * record's member is the relay and the recipient is named in its reason) and a material a
 * recipient fetched through its link (`material.fetched`: the recipient acted, it is the member).
 * One format, written by the relay and read back by the citizen's access log.
 */
export const DISCLOSURE_KINDS: ReadonlyMap<string, 'request' | 'material'> = new Map([
  ['transfer.requested', 'request'],
  ['discount.requested', 'request'],
  ['benefit.requested', 'request'],
  ['material.fetched', 'material'],
]);

/** The reason of a request's audit record: the recipient member and the topic it went to, e.g. `sent to zj.demo.water on datarun.utility.water.transfer-requested.v1`. */
export function requestSentTo(recipient: string, topic: string): string {
  return `sent to ${recipient} on ${topic}`;
}

/** The recipient member a request's audit record names (`requestSentTo`), or undefined. */
export function recipientOfRequest(reason: string | null): string | undefined {
  return reason === null ? undefined : /^sent to (\S+) on /.exec(reason)?.[1];
}

/** The request an audit record's object names (`transfer:<requestId>`), or null. */
export function requestOfObject(object: string | null): string | null {
  return object?.startsWith('transfer:') ? object.slice('transfer:'.length) : null;
}
