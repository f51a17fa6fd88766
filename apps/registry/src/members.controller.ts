import type { Caller } from '@datarun/auth';
import { CurrentCaller } from '@datarun/auth-guard';
import { ApiAnswer, ApiProblems, CHANGE_NOT_AUDITED, JsonBody, Roles } from '@datarun/platform';
import { MEMBER_KINDS } from '@datarun/auth';
import { MEMBER_PAGE, MEMBER_STATES, MembersService, type MemberView, type RecipientSettingsInput, type RegisterMemberCommand } from '@datarun/registry';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { MEMBER, MEMBERS } from './answers.js';
import { CHANGE_MEMBER_STATE, RECIPIENT, REGISTER_MEMBER, REPLACE_KEYS } from './bodies.js';

@ApiTags('members')
@ApiBearerAuth()
@Roles('admin')
@Controller('v1/members')
export class MembersController {
  constructor(private readonly members: MembersService) {}

  @Post()
  @ApiOperation({ operationId: 'registerMember', summary: 'Register a member' })
  @HttpCode(201)
  @ApiBody({ schema: REGISTER_MEMBER })
  @ApiAnswer(201, 'The registered member', MEMBER)
  @ApiProblems(
    [
      400,
      'VALIDATION_FAILED (also: a JWKS the key rules refuse, recipient settings for a member that is no utility or department), ENDPOINT_NOT_ALLOWED (a webhook outside the egress allowlist)',
    ],
    [403, 'ROLE_FORBIDDEN (admins only)'],
    [409, 'ALREADY_EXISTS (the member, or another member receiving for the utility kind)'],
    CHANGE_NOT_AUDITED,
  )
  register(@CurrentCaller() caller: Caller, @Body(new JsonBody(REGISTER_MEMBER)) body: RegisterMemberCommand): Promise<MemberView> {
    return this.members.register(caller, body);
  }

  @Get()
  @ApiOperation({ operationId: 'listMembers', summary: 'List members' })
  @ApiQuery({ name: 'kind', required: false, enum: MEMBER_KINDS })
  @ApiQuery({ name: 'state', required: false, enum: MEMBER_STATES, description: '`suspended`: the members whose tokens are refused' })
  @ApiQuery({ name: 'cursor', required: false, description: 'The `next` of the previous page' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: MEMBER_PAGE.max, default: MEMBER_PAGE.default } })
  @ApiAnswer(200, 'Members in id order, a page at a time', MEMBERS)
  @ApiProblems([400, 'VALIDATION_FAILED'], [403, 'ROLE_FORBIDDEN (admins only)'])
  list(
    @CurrentCaller() caller: Caller,
    @Query('kind') kind?: string,
    @Query('state') state?: string,
    @Query('cursor') cursor?: string,
    @Query('limit') limit?: string,
  ): Promise<{ items: MemberView[]; next?: string }> {
    return this.members.list(caller, { kind, state, cursor, limit: limit === undefined ? undefined : Number(limit) });
  }

  @Get(':id')
  @Roles(...MEMBER_KINDS)
  @ApiOperation({ operationId: 'getMember', summary: 'Get a member' })
  @ApiAnswer(200, 'A member with its public keys', MEMBER)
  @ApiProblems([403, 'ROLE_FORBIDDEN (members only: not a citizen token)'], [404, 'MEMBER_NOT_FOUND'])
  get(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<MemberView> {
    return this.members.get(caller, id);
  }

  @Put(':id/keys')
  @Roles(...MEMBER_KINDS)
  @ApiOperation({ operationId: 'replaceMemberKeys', summary: "Replace a member's keys" })
  @ApiBody({ schema: REPLACE_KEYS })
  @ApiAnswer(
    200,
    'The member with its new JWKS: the keys sent, and each key they leave out with an `exp` one hour ahead (it keeps verifying until then)',
    MEMBER,
  )
  @ApiProblems([400, 'VALIDATION_FAILED'], [403, 'ROLE_FORBIDDEN (the member itself or an admin)'], [404, 'MEMBER_NOT_FOUND'], CHANGE_NOT_AUDITED)
  replaceKeys(@CurrentCaller() caller: Caller, @Param('id') id: string, @Body(new JsonBody(REPLACE_KEYS)) body: unknown): Promise<MemberView> {
    return this.members.replaceKeys(caller, id, body);
  }

  @Put(':id/recipient')
  @Roles(...MEMBER_KINDS)
  @ApiOperation({ operationId: 'setMemberRecipient', summary: 'Set how a member receives requests' })
  @ApiBody({ schema: RECIPIENT })
  @ApiAnswer(200, 'The member with its recipient settings: matters may name it (or its utility kind) from now on', MEMBER)
  @ApiProblems(
    [
      400,
      'VALIDATION_FAILED (the member is no utility or department, a utility kind for a department, a webhook without an endpoint or a kafka recipient with one), ENDPOINT_NOT_ALLOWED (a webhook outside the egress allowlist)',
    ],
    [403, 'ROLE_FORBIDDEN (the member itself or an admin)'],
    [404, 'MEMBER_NOT_FOUND'],
    [409, 'ALREADY_EXISTS (another member receives for the utility kind)'],
    CHANGE_NOT_AUDITED,
  )
  setRecipient(@CurrentCaller() caller: Caller, @Param('id') id: string, @Body(new JsonBody(RECIPIENT)) body: RecipientSettingsInput): Promise<MemberView> {
    return this.members.setRecipient(caller, id, body);
  }

  @Delete(':id/keys/:kid')
  @Roles(...MEMBER_KINDS)
  @ApiOperation({ operationId: 'removeMemberKey', summary: "Remove one of a member's keys at once" })
  @ApiAnswer(200, 'The member without that key: it verifies nothing from now on (a leaked key)', MEMBER)
  @ApiProblems(
    [403, 'ROLE_FORBIDDEN (the member itself or an admin)'],
    [404, 'MEMBER_NOT_FOUND, KEY_NOT_FOUND'],
    [409, "STATE_CONFLICT (the member's last valid key: add the new one first)"],
    CHANGE_NOT_AUDITED,
  )
  removeKey(@CurrentCaller() caller: Caller, @Param('id') id: string, @Param('kid') kid: string): Promise<MemberView> {
    return this.members.removeKey(caller, id, kid);
  }

  @Post(':id/suspend')
  @ApiOperation({ operationId: 'suspendMember', summary: 'Suspend a member' })
  @HttpCode(200)
  @ApiBody({ schema: CHANGE_MEMBER_STATE, required: false })
  @ApiAnswer(200, 'The suspended member: every token and signature of it is refused (403 MEMBER_SUSPENDED), in every process within seconds', MEMBER)
  @ApiProblems(
    [403, 'ROLE_FORBIDDEN (admins only)'],
    [404, 'MEMBER_NOT_FOUND'],
    [409, "STATE_CONFLICT (already suspended, or the caller's own member)"],
    CHANGE_NOT_AUDITED,
  )
  suspend(
    @CurrentCaller() caller: Caller,
    @Param('id') id: string,
    @Body(new JsonBody(CHANGE_MEMBER_STATE, { optional: true })) body?: { reason?: string },
  ): Promise<MemberView> {
    return this.members.suspend(caller, id, body?.reason);
  }

  @Post(':id/reinstate')
  @ApiOperation({ operationId: 'reinstateMember', summary: 'Reinstate a suspended member' })
  @HttpCode(200)
  @ApiBody({ schema: CHANGE_MEMBER_STATE, required: false })
  @ApiAnswer(200, 'The member, active again: its tokens verify again', MEMBER)
  @ApiProblems([403, 'ROLE_FORBIDDEN (admins only)'], [404, 'MEMBER_NOT_FOUND'], [409, 'STATE_CONFLICT (not suspended)'], CHANGE_NOT_AUDITED)
  reinstate(
    @CurrentCaller() caller: Caller,
    @Param('id') id: string,
    @Body(new JsonBody(CHANGE_MEMBER_STATE, { optional: true })) body?: { reason?: string },
  ): Promise<MemberView> {
    return this.members.reinstate(caller, id, body?.reason);
  }
}
