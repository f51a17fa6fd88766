import { AuditLog, changeBy } from '@datarun/audit';
import { type Caller, requireRole } from '@datarun/auth';
import { exactTimeSql, parseTimeIdCursor, timeIdCursor } from '@datarun/db';
import { KafkaMessaging } from '@datarun/messaging';
import { Problem } from '@datarun/problems';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DEAD_LETTER_TOPIC } from '../topics.js';

export interface DeadLetterQuery {
  /** Only dead letters of this original topic. */
  readonly topic?: string;
  /** Page size, 1..1000 (default 100). */
  readonly limit?: number;
  /** The `next` of the previous page: continue with older dead letters (as the audit events API pages). */
  readonly cursor?: string;
}

export interface DeadLetterView {
  id: string;
  /**
   * The original topic: where a replay publishes to, as datarun or the connector that sealed the dead
   * letter recorded it. For a planted one, only what the message says of itself.
   */
  topic: string;
  key: string | null;
  reason: string;
  /** Which process gave the message up (e.g. `relay`, `datarun.connector.zj.demo.water`). */
  by: string;
  at: string;
  replays: number;
  replayedAt: string | null;
  /** Not sealed by datarun or by the connector of its topic's recipient: someone else put it on the dead-letter topic; never replayed. */
  planted: boolean;
  /** Who sealed it: `datarun`, or the member whose connector dead-lettered it; null when planted. */
  sealedBy: string | null;
  /** Why it counts as planted; null when sealed. */
  plantedReason: string | null;
  /** The original headers, without the `datarun-dlq-*` ones. */
  headers: Record<string, string>;
  /** The original value: as text when it is UTF-8 JSON, otherwise base64. */
  value: string | null;
  valueEncoding: 'json' | 'base64' | null;
}

export interface DeadLetterPage {
  items: DeadLetterView[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  next: string | null;
}

interface DeadLetterRow {
  id: string;
  topic: string;
  message_key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  reason: string;
  dead_lettered_by: string;
  dead_lettered_at: Date;
  replays: number;
  replayed_at: Date | null;
  sealed_by: string | null;
  planted_reason: string | null;
  /** dead_lettered_at to the microsecond, for the paging cursor. */
  at_exact: string;
}

export const DEFAULT_DEAD_LETTER_LIMIT = 100;
export const MAX_DEAD_LETTER_LIMIT = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const COLUMNS = `id, topic, message_key, value, headers, reason, dead_lettered_by, dead_lettered_at, replays, replayed_at, sealed_by, planted_reason,
  ${exactTimeSql('dead_lettered_at')} AS at_exact`;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Operators' view of the dead letters the relay recorded (DeadLetterRecorder): list them, and
 * replay one to its original topic. Used by the relay's admin API and by `npm run dlq`, so both
 * answer and audit alike. Admins only.
 */
@Injectable()
export class DeadLettersService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly messaging: KafkaMessaging,
    private readonly audit: AuditLog,
  ) {}

  /** Newest first (by when the message was given up), in pages. */
  async list(caller: Caller, query: DeadLetterQuery = {}): Promise<DeadLetterPage> {
    requireRole(caller, 'admin');
    const limit = query.limit ?? DEFAULT_DEAD_LETTER_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_DEAD_LETTER_LIMIT) {
      throw new Problem('VALIDATION_FAILED', `limit must be a whole number from 1 to ${MAX_DEAD_LETTER_LIMIT}`);
    }
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.topic !== undefined) {
      params.push(query.topic);
      where.push(`topic = $${params.length}`);
    }
    if (query.cursor !== undefined) {
      const cursor = parseTimeIdCursor(query.cursor);
      params.push(cursor.at, cursor.id);
      where.push(`(dead_lettered_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(limit + 1);
    const rows: DeadLetterRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM dead_letter ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY dead_lettered_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    // A dead letter is a whole message (a request names its beneficiary): a read that shows any is
    // audited, once for the page, with its filter, before it is answered (AUDIT_UNAVAILABLE: none shown).
    if (page.length > 0) await this.audit.append(changeBy(caller, 'dead-letters.read', 'dead-letters', { reason: readFilter(query, limit, page.length) }));
    return { items: page.map(view), next: rows.length > limit && last ? timeIdCursor(last.at_exact, last.id) : null };
  }

  /**
   * Publishes the original key, value and headers again to the original topic, then counts the
   * replay and audits it in one transaction. The topic is the one recorded from the dead letter's
   * seal (DeadLetterSeal): a planted dead letter, whose topic only the message itself claims, is
   * refused (409 DEAD_LETTER_PLANTED) and nothing is published.
   *
   * Publish first, record second: a failed publish leaves no trace (the operator tries again);
   * a failure after the broker acknowledged (the database or the audit log) answers an error
   * although the message went out, and the operator's retry sends it once more. That is
   * at-least-once, which every consumer tolerates (a connector's inbox drops a copy by event id, a
   * repeated status moves no request, a record is upserted by its subject key). The other order
   * could audit a replay that never happened.
   * The row stays locked during the send so two operators replaying the same dead letter at once
   * are counted one after the other.
   */
  async replay(caller: Caller, id: string): Promise<DeadLetterView> {
    requireRole(caller, 'admin');
    if (!UUID.test(id)) throw notFound(id);
    const row = await this.dataSource.transaction(async (em) => {
      const [found]: DeadLetterRow[] = await em.query(`SELECT ${COLUMNS} FROM dead_letter WHERE id = $1 FOR UPDATE`, [id]);
      if (!found) throw notFound(id);
      // Replaying into the dead-letter topic would only record it again; a message without the
      // dead-letter headers has no known origin.
      if (found.topic === '' || found.topic === DEAD_LETTER_TOPIC) {
        throw new Problem('STATE_CONFLICT', `dead letter ${id} names no original topic to replay to`);
      }
      if (found.sealed_by === null) {
        throw new Problem(
          'DEAD_LETTER_PLANTED',
          `dead letter ${id} was not sealed by datarun or by its recipient (${found.planted_reason ?? 'no seal'}): it is never replayed`,
        );
      }
      try {
        await this.messaging.publish(found.topic, [{ key: found.message_key, value: found.value, headers: found.headers }]);
      } catch (error) {
        throw new Problem('SERVICE_UNAVAILABLE', `Kafka did not take the replay to ${found.topic}: ${(error as Error).message}`);
      }
      // A SELECT around the UPDATE: TypeORM answers a bare UPDATE … RETURNING as [rows, count].
      const [updated]: DeadLetterRow[] = await em.query(
        `WITH replayed AS (UPDATE dead_letter SET replays = replays + 1, replayed_at = now() WHERE id = $1 RETURNING *) SELECT ${COLUMNS} FROM replayed`,
        [id],
      );
      await this.audit.appendWithin(em, changeBy(caller, 'dead-letter.replayed', `dead-letter:${id}`, { reason: found.topic }));
      return updated;
    });
    return view(row);
  }
}

/** What an audited read asked for and got, e.g. `topic=datarun.utility.gas.transfer-requested.v1 limit=100 returned=3`. */
function readFilter(query: DeadLetterQuery, limit: number, returned: number): string {
  const filter = [query.topic !== undefined ? `topic=${query.topic}` : '', query.cursor !== undefined ? `cursor=${query.cursor}` : '', `limit=${limit}`];
  return [...filter.filter(Boolean), `returned=${returned}`].join(' ');
}

function notFound(id: string): Problem {
  return new Problem('DEAD_LETTER_NOT_FOUND', `no dead letter ${id}`);
}

function view(row: DeadLetterRow): DeadLetterView {
  const value = valueOf(row.value);
  return {
    id: row.id,
    topic: row.topic,
    key: row.message_key,
    reason: row.reason,
    by: row.dead_lettered_by,
    at: row.dead_lettered_at.toISOString(),
    replays: row.replays,
    replayedAt: row.replayed_at?.toISOString() ?? null,
    planted: row.sealed_by === null,
    sealedBy: row.sealed_by,
    plantedReason: row.sealed_by === null ? (row.planted_reason ?? 'no seal') : null,
    headers: row.headers,
    ...value,
  };
}

function valueOf(bytes: Buffer | null): Pick<DeadLetterView, 'value' | 'valueEncoding'> {
  if (bytes === null) return { value: null, valueEncoding: null };
  try {
    const text = utf8.decode(bytes);
    JSON.parse(text);
    return { value: text, valueEncoding: 'json' };
  } catch {
    return { value: bytes.toString('base64'), valueEncoding: 'base64' };
  }
}
