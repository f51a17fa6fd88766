import type { Caller } from '@datarun/auth';
import { CurrentCaller } from '@datarun/auth-guard';
import {
  CASE_PAGE,
  CaseMaterials,
  CaseSearch,
  type CaseSummary,
  CasesService,
  type CaseView,
  MATERIAL_MEDIA_TYPES,
  MAX_MATERIAL_BYTES,
  type MaterialUpload,
  type OpenCaseCommand,
} from '@datarun/cases';
import { ApiAnswer, ApiProblems, BodyLimit, CHANGE_NOT_AUDITED, JsonBody, Roles } from '@datarun/platform';
import { Problem } from '@datarun/problems';
import { Body, Controller, Get, Headers, HttpCode, Param, ParseUUIDPipe, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CASE, CASE_SUMMARY_PAGE, MATERIAL_UPLOAD } from './answers.js';
import { OPEN_CASE } from './bodies.js';

const caseId = new ParseUUIDPipe({ exceptionFactory: () => new Problem('CASE_NOT_FOUND', 'no such case') });
const requestId = new ParseUUIDPipe({ exceptionFactory: () => new Problem('TRANSFER_NOT_FOUND', 'no such utility request') });

@ApiTags('cases')
@ApiBearerAuth()
@Roles('consumer')
@Controller('v1/cases')
export class CasesController {
  constructor(
    private readonly cases: CasesService,
    private readonly materials: CaseMaterials,
    private readonly search: CaseSearch,
  ) {}

  @Get()
  @ApiOperation({ operationId: 'listCases', summary: 'List the caller’s cases, newest first' })
  @ApiQuery({ name: 'state', required: false, enum: ['open', 'approving', 'rejected', 'completed', 'withdrawn'] })
  @ApiQuery({ name: 'matter', required: false, description: 'a matter code' })
  @ApiQuery({ name: 'party', required: false, description: 'a party’s ID number, matched through a keyed hash (the search is audited against that person)' })
  @ApiQuery({
    name: 'overdue',
    required: false,
    enum: ['true', 'false'],
    description: 'an approval pending past due, or a deferred material not uploaded by its due time',
  })
  @ApiQuery({ name: 'from', required: false, description: 'opened at or after (ISO 8601)' })
  @ApiQuery({ name: 'to', required: false, description: 'opened before (ISO 8601)' })
  @ApiQuery({ name: 'cursor', required: false, description: 'the `next` of the previous page' })
  @ApiQuery({ name: 'limit', required: false, description: `1 to ${CASE_PAGE.max}, default ${CASE_PAGE.default}` })
  @ApiAnswer(200, 'The caller’s cases that match, newest first', CASE_SUMMARY_PAGE)
  @ApiProblems([400, 'VALIDATION_FAILED, ID_NUMBER_INVALID (party)'], [403, 'ROLE_FORBIDDEN (consumers only)'])
  list(
    @CurrentCaller() caller: Caller,
    @Query('state') state?: string,
    @Query('matter') matter?: string,
    @Query('party') party?: string,
    @Query('overdue') overdue?: string,
    @Query('from') from?: string,
    @Query('to') to?: string,
    @Query('cursor') cursor?: string,
    @Query('limit') limit?: string,
  ): Promise<{ items: CaseSummary[]; next?: string }> {
    return this.search.list(caller, { state, matter, party, overdue, from, to, cursor, limit: limit === undefined ? undefined : Number(limit) });
  }

  @Post()
  @ApiOperation({ operationId: 'openCase', summary: 'Open a case' })
  @HttpCode(201)
  @ApiBody({ schema: OPEN_CASE })
  @ApiAnswer(201, 'The open case', CASE)
  @ApiProblems(
    [400, 'VALIDATION_FAILED (also: a material type the matter does not collect), ID_NUMBER_INVALID'],
    [403, 'ROLE_FORBIDDEN (consumers only)'],
    [404, 'MATTER_NOT_FOUND'],
    CHANGE_NOT_AUDITED,
  )
  open(@CurrentCaller() caller: Caller, @Body(new JsonBody(OPEN_CASE)) body: OpenCaseCommand): Promise<CaseView> {
    return this.cases.open(caller, body);
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getCase', summary: 'Get a case' })
  @ApiAnswer(200, 'The case with its parties, materials and utility requests', CASE)
  @ApiProblems([403, 'ROLE_FORBIDDEN (consumers only)'], [404, 'CASE_NOT_FOUND (also for another member’s case)'])
  get(@CurrentCaller() caller: Caller, @Param('id', caseId) id: string): Promise<CaseView> {
    return this.cases.get(caller, id);
  }

  @Post(':id/withdraw')
  @ApiOperation({ operationId: 'withdrawCase', summary: 'Withdraw a case' })
  @HttpCode(200)
  @ApiAnswer(200, 'The withdrawn case', CASE)
  @ApiProblems([403, 'ROLE_FORBIDDEN'], [404, 'CASE_NOT_FOUND'], [409, 'STATE_CONFLICT (not open or approving)'], CHANGE_NOT_AUDITED)
  withdraw(@CurrentCaller() caller: Caller, @Param('id', caseId) id: string): Promise<CaseView> {
    return this.cases.withdraw(caller, id);
  }

  @Post(':id/complete')
  @ApiOperation({ operationId: 'completeCase', summary: 'Complete a case' })
  @HttpCode(200)
  @ApiAnswer(200, 'The completed case with one pending request per utility the matter notifies (idempotent)', CASE)
  @ApiProblems(
    [400, 'VALIDATION_FAILED (an account number, the property or a routed material is missing)'],
    [403, 'ROLE_FORBIDDEN'],
    [404, 'CASE_NOT_FOUND'],
    [
      409,
      'APPROVAL_PENDING (a department has not approved yet), MATERIAL_MISSING (a material the case opened without is not uploaded), STATE_CONFLICT (withdrawn or rejected)',
    ],
    CHANGE_NOT_AUDITED,
  )
  complete(@CurrentCaller() caller: Caller, @Param('id', caseId) id: string): Promise<CaseView> {
    return this.cases.complete(caller, id);
  }

  @Post(':id/transfers/:requestId/resend')
  @ApiOperation({ operationId: 'resendTransfer', summary: 'Send a utility request again' })
  @HttpCode(200)
  @ApiAnswer(200, 'The case; the request is pending again under the same request id', CASE)
  @ApiProblems([403, 'ROLE_FORBIDDEN'], [404, 'CASE_NOT_FOUND, TRANSFER_NOT_FOUND'], CHANGE_NOT_AUDITED)
  resend(@CurrentCaller() caller: Caller, @Param('id', caseId) id: string, @Param('requestId', requestId) request: string): Promise<CaseView> {
    return this.cases.resend(caller, id, request);
  }

  @Put(':id/materials/:type')
  // The one gateway route whose body may exceed HTTP_BODY_LIMIT: a scanned material.
  @BodyLimit(MAX_MATERIAL_BYTES)
  @ApiOperation({ operationId: 'uploadMaterial', summary: 'Upload a submitted material' })
  @HttpCode(200)
  @ApiConsumes(...MATERIAL_MEDIA_TYPES)
  @ApiBody({
    description: `the material's bytes (at most ${MAX_MATERIAL_BYTES} bytes); their SHA-256 must be the one declared when the case was opened (a material the case opened without, 容缺受理, is declared by its upload)`,
    schema: { type: 'string', format: 'binary' },
  })
  @ApiAnswer(200, 'The stored material', MATERIAL_UPLOAD)
  @ApiProblems(
    [400, 'MATERIAL_HASH_MISMATCH, VALIDATION_FAILED (empty)'],
    [403, 'ROLE_FORBIDDEN'],
    [404, 'CASE_NOT_FOUND, MATERIAL_NOT_FOUND (type neither declared nor deferred)'],
    [409, 'STATE_CONFLICT (case not open)'],
    [413, 'PAYLOAD_TOO_LARGE'],
    [415, 'UNSUPPORTED_MEDIA_TYPE, MATERIAL_TYPE_MISMATCH (the bytes are not of the content-type sent, by their magic numbers)'],
    CHANGE_NOT_AUDITED,
  )
  uploadMaterial(
    @CurrentCaller() caller: Caller,
    @Param('id', caseId) id: string,
    @Param('type') type: string,
    @Headers('content-type') contentType: string | undefined,
    @Body() bytes: unknown,
  ): Promise<MaterialUpload> {
    return this.materials.upload(caller, id, type, contentType, bytes);
  }
}
