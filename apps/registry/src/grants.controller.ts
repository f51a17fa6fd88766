import type { Caller } from '@datarun/auth';
import { CurrentCaller } from '@datarun/auth-guard';
import { ApiProblems, JsonBody } from '@datarun/platform';
import { Problem } from '@datarun/problems';
import { type GrantAction, GrantsService, type GrantView, type RequestGrantCommand } from '@datarun/registry';
import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiOkResponse, ApiQuery, ApiTags, ApiOperation } from '@nestjs/swagger';
import { DECIDE_GRANT, REQUEST_GRANT } from './bodies.js';

const STATES = ['requested', 'approved', 'rejected', 'revoked'] as const;
const grantId = new ParseUUIDPipe({ exceptionFactory: () => new Problem('GRANT_NOT_FOUND', 'no such grant') });

@ApiTags('grants')
@ApiBearerAuth()
@Controller('v1/grants')
export class GrantsController {
  constructor(private readonly grants: GrantsService) {}

  @Post()
  @ApiOperation({ operationId: 'requestGrant', summary: 'Request access to a source' })
  @HttpCode(201)
  @ApiBody({ schema: REQUEST_GRANT })
  @ApiCreatedResponse({ description: 'the grant, state requested' })
  @ApiProblems([400, 'VALIDATION_FAILED'], [403, 'ROLE_FORBIDDEN (consumers and utilities)'], [404, 'SOURCE_NOT_FOUND, MATTER_NOT_FOUND'])
  request(@CurrentCaller() caller: Caller, @Body(new JsonBody(REQUEST_GRANT)) body: RequestGrantCommand): Promise<GrantView> {
    return this.grants.request(caller, body);
  }

  @Get()
  @ApiOperation({ operationId: 'listGrants', summary: 'List grants' })
  @ApiQuery({ name: 'state', required: false, enum: STATES })
  @ApiQuery({ name: 'source', required: false })
  @ApiOkResponse({ description: "{items}: a department's queue on its sources, a consumer's own grants, every grant for an admin" })
  @ApiProblems([400, 'VALIDATION_FAILED'], [403, 'ROLE_FORBIDDEN'])
  async list(@CurrentCaller() caller: Caller, @Query('state') state?: string, @Query('source') source?: string): Promise<{ items: GrantView[] }> {
    if (state !== undefined && !STATES.includes(state as never)) throw new Problem('VALIDATION_FAILED', `state must be one of ${STATES.join(', ')}`);
    return { items: await this.grants.list(caller, { state: state as (typeof STATES)[number] | undefined, source }) };
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getGrant', summary: 'Get a grant' })
  @ApiOkResponse({ description: 'one grant with its decisions' })
  @ApiProblems([404, 'GRANT_NOT_FOUND'])
  async get(@CurrentCaller() caller: Caller, @Param('id', grantId) id: string): Promise<GrantView> {
    const grant = await this.grants.get(id);
    const visible =
      caller.role === 'admin' || grant.consumer === caller.memberId || (await this.grants.list(caller, { source: grant.source })).some((g) => g.id === id);
    if (!visible) throw new Problem('GRANT_NOT_FOUND', `no grant ${id}`);
    return grant;
  }

  @Post(':id/approve')
  @ApiOperation({ operationId: 'approveGrant', summary: 'Approve a grant' })
  @HttpCode(200)
  @ApiBody({ schema: DECIDE_GRANT, required: false })
  @ApiOkResponse({ description: 'the approved grant' })
  @ApiProblems([403, 'ROLE_FORBIDDEN, NOT_OWNER'], [404, 'GRANT_NOT_FOUND'], [409, 'STATE_CONFLICT'])
  approve(@CurrentCaller() caller: Caller, @Param('id', grantId) id: string, @Body(new JsonBody(DECIDE_GRANT)) body: { note?: string }): Promise<GrantView> {
    return this.decide(caller, id, 'approve', body);
  }

  @Post(':id/reject')
  @ApiOperation({ operationId: 'rejectGrant', summary: 'Reject a grant' })
  @HttpCode(200)
  @ApiBody({ schema: DECIDE_GRANT, required: false })
  @ApiOkResponse({ description: 'the rejected grant' })
  @ApiProblems([403, 'ROLE_FORBIDDEN, NOT_OWNER'], [404, 'GRANT_NOT_FOUND'], [409, 'STATE_CONFLICT'])
  reject(@CurrentCaller() caller: Caller, @Param('id', grantId) id: string, @Body(new JsonBody(DECIDE_GRANT)) body: { note?: string }): Promise<GrantView> {
    return this.decide(caller, id, 'reject', body);
  }

  @Post(':id/revoke')
  @ApiOperation({ operationId: 'revokeGrant', summary: 'Revoke a grant' })
  @HttpCode(200)
  @ApiBody({ schema: DECIDE_GRANT, required: false })
  @ApiOkResponse({ description: 'the revoked grant' })
  @ApiProblems([403, 'ROLE_FORBIDDEN, NOT_OWNER'], [404, 'GRANT_NOT_FOUND'], [409, 'STATE_CONFLICT'])
  revoke(@CurrentCaller() caller: Caller, @Param('id', grantId) id: string, @Body(new JsonBody(DECIDE_GRANT)) body: { note?: string }): Promise<GrantView> {
    return this.decide(caller, id, 'revoke', body);
  }

  private decide(caller: Caller, id: string, action: GrantAction, body: { note?: string } | undefined): Promise<GrantView> {
    return this.grants.decide(caller, id, action, body?.note);
  }
}
