import { createHmac } from 'node:crypto';

/**
 * Subjects are stored as a keyed hash: searchable by whoever holds the key (the audit app), not
 * readable back by a database reader. The key lives outside the database (DATARUN_SUBJECT_HASH_KEY).
 */
export class SubjectPseudonyms {
  constructor(private readonly key: Buffer) {
    if (key.length < 16) throw new Error('the subject hash key must be at least 16 bytes');
  }

  of(idNumber: string): string {
    return createHmac('sha256', this.key).update(idNumber.toUpperCase()).digest('base64url');
  }
}
