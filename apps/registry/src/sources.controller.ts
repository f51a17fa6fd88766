import { type Caller, MEMBER_KINDS } from '@datarun/auth';
import { CurrentCaller } from '@datarun/auth-guard';
import { ApiAnswer, ApiProblems, BodyLimit, CHANGE_NOT_AUDITED, JsonBody, Roles } from '@datarun/platform';
import { type IngestResult, type PublishVersionCommand, type RegisterSourceCommand, SourcesService, type SourceView } from '@datarun/registry';
import { Body, Controller, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CATALOG, INGEST_RESULT, SOURCE } from './answers.js';
import { PUBLISH_VERSION, PUSH_RECORDS, REGISTER_SOURCE } from './bodies.js';

/** A push of thousands of records: the one registry route whose body may exceed HTTP_BODY_LIMIT. */
const RECORD_BATCH_BYTES = 8 * 1024 * 1024;

@ApiTags('sources')
@ApiBearerAuth()
@Controller()
export class SourcesController {
  constructor(private readonly sources: SourcesService) {}

  @Post('v1/sources')
  @Roles('department')
  @ApiOperation({ operationId: 'registerSource', summary: 'Register a data source' })
  @HttpCode(201)
  @ApiBody({ schema: REGISTER_SOURCE })
  @ApiAnswer(201, 'The source as the catalogue shows it', SOURCE)
  @ApiProblems(
    [400, 'VALIDATION_FAILED, SCHEMA_INVALID, ENDPOINT_NOT_ALLOWED (the endpoint is outside the egress allowlist, or has a query, fragment or credentials)'],
    [403, 'ROLE_FORBIDDEN (departments only)'],
    [409, 'ALREADY_EXISTS'],
    CHANGE_NOT_AUDITED,
  )
  register(@CurrentCaller() caller: Caller, @Body(new JsonBody(REGISTER_SOURCE)) body: RegisterSourceCommand): Promise<SourceView> {
    return this.sources.register(caller, body);
  }

  @Get('v1/sources/:id')
  @Roles(...MEMBER_KINDS)
  @ApiOperation({ operationId: 'getSource', summary: 'Get a source' })
  @ApiAnswer(200, 'One source of the catalogue', SOURCE)
  @ApiProblems([403, 'ROLE_FORBIDDEN (members only: not a citizen token)'], [404, 'SOURCE_NOT_FOUND'])
  get(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<SourceView> {
    return this.sources.describe(caller, id);
  }

  @Post('v1/sources/:id/versions')
  @Roles('department')
  @ApiOperation({ operationId: 'publishSourceVersion', summary: 'Publish a new schema version' })
  @HttpCode(201)
  @ApiBody({ schema: PUBLISH_VERSION })
  @ApiAnswer(201, 'The source with its new current version', SOURCE)
  @ApiProblems(
    [400, 'VALIDATION_FAILED, SCHEMA_INVALID, SCHEMA_INCOMPATIBLE (what breaks in `paths`)'],
    [403, 'ROLE_FORBIDDEN, NOT_OWNER'],
    [404, 'SOURCE_NOT_FOUND'],
    CHANGE_NOT_AUDITED,
  )
  publishVersion(
    @CurrentCaller() caller: Caller,
    @Param('id') id: string,
    @Body(new JsonBody(PUBLISH_VERSION)) body: PublishVersionCommand,
  ): Promise<SourceView> {
    return this.sources.publishVersion(caller, id, body);
  }

  @Put('v1/sources/:id/records')
  @Roles('department')
  // Record batches of thousands; larger bodies are 413 PAYLOAD_TOO_LARGE.
  @BodyLimit(RECORD_BATCH_BYTES)
  @ApiOperation({ operationId: 'pushRecords', summary: 'Push records to a replica source' })
  @ApiBody({ schema: PUSH_RECORDS })
  @ApiAnswer(200, 'How many records were stored and why each rejected one was: 200 even when every record was rejected', INGEST_RESULT)
  @ApiProblems(
    [400, 'VALIDATION_FAILED'],
    [403, 'ROLE_FORBIDDEN, NOT_OWNER'],
    [404, 'SOURCE_NOT_FOUND'],
    [409, 'STATE_CONFLICT (federated source)'],
    [413, 'PAYLOAD_TOO_LARGE'],
    CHANGE_NOT_AUDITED,
  )
  push(@CurrentCaller() caller: Caller, @Param('id') id: string, @Body(new JsonBody(PUSH_RECORDS)) body: { records: unknown[] }): Promise<IngestResult> {
    return this.sources.ingest(caller, id, body.records);
  }

  @Get('v1/catalog')
  @Roles(...MEMBER_KINDS)
  @ApiOperation({ operationId: 'getCatalog', summary: 'Get the resource catalogue' })
  @ApiAnswer(200, 'The resource catalogue (资源目录): sources, versions, fields and classifications, never data', CATALOG)
  @ApiProblems([403, 'ROLE_FORBIDDEN (members only: not a citizen token)'])
  async catalog(@CurrentCaller() caller: Caller): Promise<{ items: SourceView[] }> {
    return { items: await this.sources.catalog(caller) };
  }
}
