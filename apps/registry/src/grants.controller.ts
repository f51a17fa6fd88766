import type { Caller } from '@datarun/auth';
import { CurrentCaller } from '@datarun/auth-guard';
import { AnyCaller, ApiAnswer, ApiProblems, CHANGE_NOT_AUDITED, JsonBody, Roles } from '@datarun/platform';
import { Problem } from '@datarun/problems';
import { GRANT_STATES, type GrantAction, GrantsService, type GrantView, type RequestGrantCommand } from '@datarun/registry';
import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { GRANT, GRANTS } from './answers.js';
import { DECIDE_GRANT, REQUEST_GRANT } from './bodies.js';

/** A decision's body is optional (`{note?}`): approving or revoking without one works. */
const decision = new JsonBody<{ note?: string }>(DECIDE_GRANT, { optional: true });
const grantId = new ParseUUIDPipe({ exceptionFactory: () => new Problem('GRANT_NOT_FOUND', 'no such grant') });
const DECISION_PROBLEMS: Array<[number, string]> = [
  [403, 'ROLE_FORBIDDEN (departments only), NOT_OWNER (a grant on another department’s source)'],
  [404, 'GRANT_NOT_FOUND'],
  [409, 'STATE_CONFLICT (not in the state this decision needs)'],
  CHANGE_NOT_AUDITED,
];

@ApiTags('grants')
@ApiBearerAuth()
@Controller('v1/grants')
export class GrantsController {
  constructor(private readonly grants: GrantsService) {}

  @Post()
  @Roles('consumer', 'utility')
  @ApiOperation({ operationId: 'requestGrant', summary: 'Request access to a source' })
  @HttpCode(201)
  @ApiBody({ schema: REQUEST_GRANT })
  @ApiAnswer(201, 'The grant, state requested', GRANT)
  @ApiProblems([400, 'VALIDATION_FAILED'], [403, 'ROLE_FORBIDDEN (consumers and utilities)'], [404, 'SOURCE_NOT_FOUND, MATTER_NOT_FOUND'], CHANGE_NOT_AUDITED)
  request(@CurrentCaller() caller: Caller, @Body(new JsonBody(REQUEST_GRANT)) body: RequestGrantCommand): Promise<GrantView> {
    return this.grants.request(caller, body);
  }

  @Get()
  @Roles('department', 'consumer', 'utility', 'admin')
  @ApiOperation({ operationId: 'listGrants', summary: 'List grants' })
  @ApiQuery({ name: 'state', required: false, enum: GRANT_STATES })
  @ApiQuery({ name: 'source', required: false })
  @ApiAnswer(200, "A department's queue on its sources, a consumer's own grants, every grant for an admin", GRANTS)
  @ApiProblems([400, 'VALIDATION_FAILED'], [403, 'ROLE_FORBIDDEN'])
  async list(@CurrentCaller() caller: Caller, @Query('state') state?: string, @Query('source') source?: string): Promise<{ items: GrantView[] }> {
    return { items: await this.grants.list(caller, { state, source }) };
  }

  @Get(':id')
  @AnyCaller()
  @ApiOperation({ operationId: 'getGrant', summary: 'Get a grant' })
  @ApiAnswer(200, 'One grant with its decisions', GRANT)
  @ApiProblems([404, 'GRANT_NOT_FOUND (also for a grant the caller may not see)'])
  get(@CurrentCaller() caller: Caller, @Param('id', grantId) id: string): Promise<GrantView> {
    return this.grants.view(caller, id);
  }

  @Post(':id/approve')
  @Roles('department')
  @ApiOperation({ operationId: 'approveGrant', summary: 'Approve a grant' })
  @HttpCode(200)
  @ApiBody({ schema: DECIDE_GRANT, required: false })
  @ApiAnswer(200, 'The approved grant', GRANT)
  @ApiProblems(...DECISION_PROBLEMS)
  approve(@CurrentCaller() caller: Caller, @Param('id', grantId) id: string, @Body(decision) body: { note?: string } | undefined): Promise<GrantView> {
    return this.decide(caller, id, 'approve', body);
  }

  @Post(':id/reject')
  @Roles('department')
  @ApiOperation({ operationId: 'rejectGrant', summary: 'Reject a grant' })
  @HttpCode(200)
  @ApiBody({ schema: DECIDE_GRANT, required: false })
  @ApiAnswer(200, 'The rejected grant', GRANT)
  @ApiProblems(...DECISION_PROBLEMS)
  reject(@CurrentCaller() caller: Caller, @Param('id', grantId) id: string, @Body(decision) body: { note?: string } | undefined): Promise<GrantView> {
    return this.decide(caller, id, 'reject', body);
  }

  @Post(':id/revoke')
  @Roles('department')
  @ApiOperation({ operationId: 'revokeGrant', summary: 'Revoke a grant' })
  @HttpCode(200)
  @ApiBody({ schema: DECIDE_GRANT, required: false })
  @ApiAnswer(200, 'The revoked grant', GRANT)
  @ApiProblems(...DECISION_PROBLEMS)
  revoke(@CurrentCaller() caller: Caller, @Param('id', grantId) id: string, @Body(decision) body: { note?: string } | undefined): Promise<GrantView> {
    return this.decide(caller, id, 'revoke', body);
  }

  private decide(caller: Caller, id: string, action: GrantAction, body: { note?: string } | undefined): Promise<GrantView> {
    return this.grants.decide(caller, id, action, body?.note);
  }
}
