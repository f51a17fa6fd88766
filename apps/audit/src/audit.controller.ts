import {
  type AccessLogEntry,
  type AuditEventPage,
  auditFilterOf,
  AuditCheckpoints,
  type Finding,
  type InclusionAnswer,
  ProveAuditEvent,
  ReadMyAccessLog,
  ReportAnomalies,
  SearchAuditEvents,
  SignAuditCheckpoint,
  type SignedCheckpoint,
  VerifyAuditChain,
  type VerifyReport,
} from '@datarun/audit';
import type { Caller } from '@datarun/auth';
import { CurrentCaller } from '@datarun/auth-guard';
import { AnyCaller, ApiAnswer, ApiAnswers, ApiProblems, Roles } from '@datarun/platform';
import { Problem } from '@datarun/problems';
import { Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ACCESS_LOG, ANOMALY_REPORT, AUDIT_EVENT_EXPORT, AUDIT_EVENT_PAGE, INCLUSION_PROOF, SIGNED_CHECKPOINT, VERIFY_REPORT } from './answers.js';

/** HTTP in, one use case called: each use case of @datarun/audit checks the caller's role itself. */
@ApiTags('audit')
@ApiBearerAuth()
@Roles('auditor')
@Controller('v1')
export class AuditController {
  constructor(
    private readonly search: SearchAuditEvents,
    private readonly verification: VerifyAuditChain,
    private readonly proofs: ProveAuditEvent,
    private readonly signing: SignAuditCheckpoint,
    private readonly anomalyReports: ReportAnomalies,
    private readonly accessLogs: ReadMyAccessLog,
    private readonly checkpoints: AuditCheckpoints,
  ) {}

  @Get('audit/events')
  @ApiOperation({ operationId: 'searchAuditEvents', summary: 'Search the audit log' })
  @ApiQuery({ name: 'subject', required: false, description: 'a resident ID number; matched through its keyed pseudonym' })
  @ApiQuery({ name: 'member', required: false })
  @ApiQuery({ name: 'actor', required: false })
  @ApiQuery({ name: 'source', required: false })
  @ApiQuery({ name: 'caseId', required: false })
  @ApiQuery({
    name: 'correlationId',
    required: false,
    description: 'the id of one request or consumed message (x-request-id, traceparent trace id, ce_correlationid); narrow by caseId or from/to on a big log',
  })
  @ApiQuery({ name: 'decision', required: false, enum: ['allowed', 'denied', 'failed'] })
  @ApiQuery({ name: 'from', required: false, description: 'ISO 8601, inclusive' })
  @ApiQuery({ name: 'to', required: false, description: 'ISO 8601, exclusive' })
  @ApiQuery({ name: 'cursor', required: false, description: 'the `next` of the previous page' })
  @ApiQuery({ name: 'limit', required: false, description: '1..1000, default 100' })
  @ApiQuery({
    name: 'format',
    required: false,
    enum: ['json', 'ndjson', 'csv'],
    description: 'ndjson or csv: the whole result as a download (csv: UTF-8 with a byte order mark, formula-like cells prefixed with a quote)',
  })
  @ApiAnswers(200, 'Matching audit events, newest first: a page (json) or the whole result as a download (ndjson, csv)', {
    'application/json': AUDIT_EVENT_PAGE,
    'application/x-ndjson': AUDIT_EVENT_EXPORT,
    'text/csv': AUDIT_EVENT_EXPORT,
  })
  @ApiProblems([400, 'VALIDATION_FAILED, ID_NUMBER_INVALID'], [403, 'ROLE_FORBIDDEN (auditors only)'])
  async events(@CurrentCaller() caller: Caller, @Query() query: Record<string, string>): Promise<AuditEventPage | StreamableFile> {
    const answer = await this.search.run({ caller, filter: auditFilterOf(query), format: query.format, cursor: query.cursor, limit: query.limit });
    if ('page' in answer) return answer.page;
    const { content, mediaType, filename } = answer.download;
    return new StreamableFile(content, { type: mediaType, disposition: `attachment; filename="${filename}"` });
  }

  @Get('audit/events/:id/proof')
  @ApiOperation({ operationId: 'proveAuditEvent', summary: 'Prove an audit event is in the signed log' })
  @ApiAnswer(200, 'An RFC 6962 inclusion proof of the event in the tree the latest signed checkpoint covers', INCLUSION_PROOF)
  @ApiProblems(
    [403, 'ROLE_FORBIDDEN (auditors only)'],
    [404, 'NOT_FOUND (no such event, or no checkpoint yet)'],
    [409, 'STATE_CONFLICT (the event is newer than the latest checkpoint)'],
  )
  proof(
    @CurrentCaller() caller: Caller,
    @Param('id', new ParseUUIDPipe({ exceptionFactory: () => new Problem('NOT_FOUND', 'no such audit event') })) id: string,
  ): Promise<InclusionAnswer> {
    return this.proofs.run({ caller, eventId: id });
  }

  @Get('audit/verify')
  @Roles('auditor', 'admin')
  @ApiOperation({ operationId: 'verifyAuditLog', summary: 'Verify the audit chain over a range' })
  @ApiQuery({ name: 'from', required: false, description: 'first sequence number (default 1: the whole log, with Merkle roots)' })
  @ApiQuery({ name: 'to', required: false, description: 'last sequence number' })
  @ApiAnswer(200, 'Whether the chain, its Merkle roots and its checkpoints verify over the range, and where the first bad record is', VERIFY_REPORT)
  @ApiProblems(
    [400, 'VALIDATION_FAILED (from or to is not a sequence number)'],
    [403, 'ROLE_FORBIDDEN (auditors and admins)'],
    [503, 'SERVICE_UNAVAILABLE (no audit public key configured)'],
  )
  verify(@CurrentCaller() caller: Caller, @Query('from') from?: string, @Query('to') to?: string): Promise<VerifyReport> {
    return this.verification.run({ caller, from, to });
  }

  @Get('audit/checkpoints/latest')
  @AnyCaller()
  @ApiOperation({ operationId: 'getLatestCheckpoint', summary: 'Get the newest signed checkpoint' })
  @ApiAnswer(
    200,
    'The newest checkpoint that verifies under a configured audit key of its kid, with that public key (never one stored with the checkpoint)',
    SIGNED_CHECKPOINT,
  )
  @ApiProblems([404, 'NOT_FOUND (no checkpoint signed with a configured audit key yet)'])
  latest(): Promise<SignedCheckpoint> {
    return this.checkpoints.latest();
  }

  @Post('audit/checkpoints')
  @Roles('admin')
  @ApiOperation({ operationId: 'signCheckpoint', summary: 'Sign a checkpoint now' })
  @HttpCode(201)
  @ApiAnswer(201, 'The checkpoint of the current head (the existing one when the head has not moved)', SIGNED_CHECKPOINT)
  @ApiProblems([403, 'ROLE_FORBIDDEN (admins only)'], [409, 'STATE_CONFLICT (empty log)'], [503, 'SERVICE_UNAVAILABLE (no signing key)'])
  sign(@CurrentCaller() caller: Caller): Promise<SignedCheckpoint> {
    return this.signing.run({ caller });
  }

  @Get('audit/reports/anomalies')
  @ApiOperation({ operationId: 'getAnomalyReport', summary: 'Report audit anomalies' })
  @ApiQuery({ name: 'from', required: false, description: 'ISO 8601, default 24 hours ago' })
  @ApiQuery({ name: 'to', required: false, description: 'ISO 8601, default now' })
  @ApiAnswer(200, 'Lookups of subjects with no open case, off-hours bursts, one subject read by many actors, denial spikes', ANOMALY_REPORT)
  @ApiProblems([400, 'VALIDATION_FAILED'], [403, 'ROLE_FORBIDDEN (auditors only)'])
  anomalies(
    @CurrentCaller() caller: Caller,
    @Query('from') from?: string,
    @Query('to') to?: string,
  ): Promise<{ from: string; to: string; findings: Finding[] }> {
    return this.anomalyReports.run({ caller, from, to });
  }

  @Get('me/access-log')
  @Roles('citizen')
  @ApiOperation({ operationId: 'getMyAccessLog', summary: 'Who read my records' })
  @ApiAnswer(200, 'Who read my records and who received my data in a request or fetched a material of my case, newest first; never the clerk', ACCESS_LOG)
  @ApiProblems([400, 'ID_NUMBER_INVALID (the token subject is not an ID number)'], [403, 'ROLE_FORBIDDEN (citizen tokens only)'])
  accessLog(@CurrentCaller() caller: Caller): Promise<{ items: AccessLogEntry[] }> {
    return this.accessLogs.run({ caller });
  }
}
