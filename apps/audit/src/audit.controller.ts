import { Readable } from 'node:stream';
import {
  type AccessLogEntry,
  archiveFiles,
  AUDIT_KEYS,
  AuditCheckpoints,
  type InclusionAnswer,
  proveInclusion,
  type AuditFilter,
  type AuditItem,
  type AuditKeys,
  AuditQueries,
  CitizenAccessLog,
  type Finding,
  readCheckpointFile,
  type SignedCheckpoint,
  verifyAuditLog,
  type VerifyReport,
} from '@datarun/audit';
import { type Caller, requireRole } from '@datarun/auth';
import { CurrentCaller } from '@datarun/auth-guard';
import { DATARUN_CONFIG, type DatarunConfig } from '@datarun/config';
import { ApiAnswer, ApiAnswers, ApiProblems } from '@datarun/platform';
import { Problem } from '@datarun/problems';
import { Controller, Get, HttpCode, Inject, Param, ParseUUIDPipe, Post, Query, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { ACCESS_LOG, ANOMALY_REPORT, AUDIT_EVENT_EXPORT, AUDIT_EVENT_PAGE, INCLUSION_PROOF, SIGNED_CHECKPOINT, VERIFY_REPORT } from './answers.js';

const FILTERS = ['subject', 'member', 'actor', 'source', 'caseId', 'decision', 'from', 'to'] as const;
const CSV_COLUMNS: Array<keyof AuditItem> = [
  'id',
  'seq',
  'at',
  'member',
  'actor',
  'action',
  'source',
  'caseId',
  'object',
  'purpose',
  'fields',
  'decision',
  'reason',
];

@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1')
export class AuditController {
  constructor(
    private readonly queries: AuditQueries,
    private readonly accessLogs: CitizenAccessLog,
    private readonly checkpoints: AuditCheckpoints,
    private readonly dataSource: DataSource,
    @Inject(AUDIT_KEYS) private readonly keys: AuditKeys,
    @Inject(DATARUN_CONFIG) private readonly config: DatarunConfig,
  ) {}

  @Get('audit/events')
  @ApiOperation({ operationId: 'searchAuditEvents', summary: 'Search the audit log' })
  @ApiQuery({ name: 'subject', required: false, description: 'a resident ID number; matched through its keyed pseudonym' })
  @ApiQuery({ name: 'member', required: false })
  @ApiQuery({ name: 'actor', required: false })
  @ApiQuery({ name: 'source', required: false })
  @ApiQuery({ name: 'caseId', required: false })
  @ApiQuery({ name: 'decision', required: false, enum: ['allowed', 'denied', 'failed'] })
  @ApiQuery({ name: 'from', required: false, description: 'ISO 8601, inclusive' })
  @ApiQuery({ name: 'to', required: false, description: 'ISO 8601, exclusive' })
  @ApiQuery({ name: 'cursor', required: false, description: 'the `next` of the previous page' })
  @ApiQuery({ name: 'limit', required: false, description: '1..1000, default 100' })
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'ndjson', 'csv'], description: 'ndjson or csv: the whole result as a download' })
  @ApiAnswers(200, 'Matching audit events, newest first: a page (json) or the whole result as a download (ndjson, csv)', {
    'application/json': AUDIT_EVENT_PAGE,
    'application/x-ndjson': AUDIT_EVENT_EXPORT,
    'text/csv': AUDIT_EVENT_EXPORT,
  })
  @ApiProblems([400, 'VALIDATION_FAILED, ID_NUMBER_INVALID'], [403, 'ROLE_FORBIDDEN (auditors only)'])
  async events(@CurrentCaller() caller: Caller, @Query() query: Record<string, string>): Promise<{ items: AuditItem[]; next?: string } | StreamableFile> {
    requireRole(caller, 'auditor');
    const filter: AuditFilter = Object.fromEntries(FILTERS.filter((f) => typeof query[f] === 'string').map((f) => [f, query[f]]));
    const format = query.format ?? 'json';
    if (format === 'ndjson' || format === 'csv') {
      const lines = format === 'ndjson' ? ndjson(this.queries.all(filter)) : csv(this.queries.all(filter));
      const type = format === 'ndjson' ? 'application/x-ndjson' : 'text/csv; charset=utf-8';
      return new StreamableFile(Readable.from(lines), { type, disposition: `attachment; filename="audit-events.${format}"` });
    }
    if (format !== 'json') throw new Problem('VALIDATION_FAILED', 'format must be json, ndjson or csv');
    const limit = query.limit === undefined ? 100 : Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new Problem('VALIDATION_FAILED', 'limit must be a whole number from 1 to 1000');
    return this.queries.search(filter, query.cursor, limit);
  }

  @Get('audit/events/:id/proof')
  @ApiOperation({ operationId: 'proveAuditEvent', summary: 'Prove an audit event is in the signed log' })
  @ApiAnswer(200, 'An RFC 6962 inclusion proof of the event in the tree the latest signed checkpoint covers', INCLUSION_PROOF)
  @ApiProblems(
    [403, 'ROLE_FORBIDDEN (auditors only)'],
    [404, 'NOT_FOUND (no such event, or no checkpoint yet)'],
    [409, 'STATE_CONFLICT (the event is newer than the latest checkpoint)'],
  )
  async proof(
    @CurrentCaller() caller: Caller,
    @Param('id', new ParseUUIDPipe({ exceptionFactory: () => new Problem('NOT_FOUND', 'no such audit event') })) id: string,
  ): Promise<InclusionAnswer> {
    requireRole(caller, 'auditor');
    return proveInclusion(this.dataSource, id, await this.checkpoints.latest());
  }

  @Get('audit/verify')
  @ApiOperation({ operationId: 'verifyAuditLog', summary: 'Verify the audit chain over a range' })
  @ApiQuery({ name: 'from', required: false, description: 'first sequence number (default 1: the whole log, with Merkle roots)' })
  @ApiQuery({ name: 'to', required: false, description: 'last sequence number' })
  @ApiAnswer(200, 'Whether the chain, its Merkle roots and its checkpoints verify over the range, and where the first bad record is', VERIFY_REPORT)
  @ApiProblems(
    [400, 'VALIDATION_FAILED (from or to is not a sequence number)'],
    [403, 'ROLE_FORBIDDEN (auditors and admins)'],
    [503, 'SERVICE_UNAVAILABLE (no audit public key configured)'],
  )
  async verify(@CurrentCaller() caller: Caller, @Query('from') from?: string, @Query('to') to?: string): Promise<VerifyReport> {
    requireRole(caller, 'auditor', 'admin');
    if (!this.keys.trusted)
      throw new Problem('SERVICE_UNAVAILABLE', 'no audit public key is configured (DATARUN_AUDIT_PUBLIC_KEY or DATARUN_AUDIT_SIGNING_KEY)');
    return verifyAuditLog(this.dataSource, {
      trustedKey: this.keys.trusted,
      externalCheckpoints: readCheckpointFile(this.config.audit.checkpointFile),
      archives: archiveFiles(this.config.audit.archiveDir),
      from: seqOf('from', from),
      to: seqOf('to', to),
    });
  }

  @Get('audit/checkpoints/latest')
  @ApiOperation({ operationId: 'getLatestCheckpoint', summary: 'Get the newest signed checkpoint' })
  @ApiAnswer(200, 'The newest signed checkpoint of the audit log', SIGNED_CHECKPOINT)
  @ApiProblems([404, 'NOT_FOUND (no checkpoint yet)'])
  latest(): Promise<SignedCheckpoint> {
    return this.checkpoints.latest();
  }

  @Post('audit/checkpoints')
  @ApiOperation({ operationId: 'signCheckpoint', summary: 'Sign a checkpoint now' })
  @HttpCode(201)
  @ApiAnswer(201, 'The checkpoint of the current head (the existing one when the head has not moved)', SIGNED_CHECKPOINT)
  @ApiProblems([403, 'ROLE_FORBIDDEN (admins only)'], [409, 'STATE_CONFLICT (empty log)'], [503, 'SERVICE_UNAVAILABLE (no signing key)'])
  sign(@CurrentCaller() caller: Caller): Promise<SignedCheckpoint> {
    requireRole(caller, 'admin');
    return this.checkpoints.signNow();
  }

  @Get('audit/reports/anomalies')
  @ApiOperation({ operationId: 'getAnomalyReport', summary: 'Report audit anomalies' })
  @ApiQuery({ name: 'from', required: false, description: 'ISO 8601, default 24 hours ago' })
  @ApiQuery({ name: 'to', required: false, description: 'ISO 8601, default now' })
  @ApiAnswer(200, 'Lookups of subjects with no open case, off-hours bursts, one subject read by many actors, denial spikes', ANOMALY_REPORT)
  @ApiProblems([400, 'VALIDATION_FAILED'], [403, 'ROLE_FORBIDDEN (auditors only)'])
  async anomalies(
    @CurrentCaller() caller: Caller,
    @Query('from') from?: string,
    @Query('to') to?: string,
  ): Promise<{ from: string; to: string; findings: Finding[] }> {
    requireRole(caller, 'auditor');
    const end = to ? new Date(to) : new Date();
    const start = from ? new Date(from) : new Date(end.getTime() - 24 * 3600 * 1000);
    if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || start >= end)
      throw new Problem('VALIDATION_FAILED', 'from and to must be ISO 8601 date-times, from before to');
    return { from: start.toISOString(), to: end.toISOString(), findings: await this.queries.anomalies(start, end) };
  }

  @Get('me/access-log')
  @ApiOperation({ operationId: 'getMyAccessLog', summary: 'Who read my records' })
  @ApiAnswer(200, 'Who read my records, newest first; never the clerk', ACCESS_LOG)
  @ApiProblems([400, 'ID_NUMBER_INVALID (the token subject is not an ID number)'], [403, 'ROLE_FORBIDDEN (citizen tokens only)'])
  async accessLog(@CurrentCaller() caller: Caller): Promise<{ items: AccessLogEntry[] }> {
    requireRole(caller, 'citizen');
    return { items: await this.accessLogs.of(caller.actor) };
  }
}

function seqOf(name: string, value?: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value)) throw new Problem('VALIDATION_FAILED', `${name} must be a sequence number`);
  return Number(value);
}

async function* ndjson(items: AsyncIterable<AuditItem>): AsyncGenerator<string> {
  for await (const item of items) yield `${JSON.stringify(item)}\n`;
}

async function* csv(items: AsyncIterable<AuditItem>): AsyncGenerator<string> {
  const cell = (v: unknown) => {
    const text = Array.isArray(v) ? v.join(';') : v === null || v === undefined ? '' : String(v);
    return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  yield `${CSV_COLUMNS.join(',')}\n`;
  for await (const item of items) yield `${CSV_COLUMNS.map((c) => cell(item[c])).join(',')}\n`;
}
