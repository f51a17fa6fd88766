import type { Caller } from '@datarun/auth';
import { CurrentCaller } from '@datarun/auth-guard';
import { ApiAnswer, ApiProblems, CHANGE_NOT_AUDITED, JsonBody } from '@datarun/platform';
import { MembersService, type MemberView, type RegisterMemberCommand } from '@datarun/registry';
import { Body, Controller, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { MEMBER } from './answers.js';
import { REGISTER_MEMBER, REPLACE_KEYS } from './bodies.js';

@ApiTags('members')
@ApiBearerAuth()
@Controller('v1/members')
export class MembersController {
  constructor(private readonly members: MembersService) {}

  @Post()
  @ApiOperation({ operationId: 'registerMember', summary: 'Register a member' })
  @HttpCode(201)
  @ApiBody({ schema: REGISTER_MEMBER })
  @ApiAnswer(201, 'The registered member', MEMBER)
  @ApiProblems(
    [400, 'VALIDATION_FAILED (also: a JWKS the key rules refuse)'],
    [403, 'ROLE_FORBIDDEN (admins only)'],
    [409, 'ALREADY_EXISTS'],
    CHANGE_NOT_AUDITED,
  )
  register(@CurrentCaller() caller: Caller, @Body(new JsonBody(REGISTER_MEMBER)) body: RegisterMemberCommand): Promise<MemberView> {
    return this.members.register(caller, body);
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getMember', summary: 'Get a member' })
  @ApiAnswer(200, 'A member with its public keys', MEMBER)
  @ApiProblems([404, 'MEMBER_NOT_FOUND'])
  get(@Param('id') id: string): Promise<MemberView> {
    return this.members.get(id);
  }

  @Put(':id/keys')
  @ApiOperation({ operationId: 'replaceMemberKeys', summary: "Replace a member's keys" })
  @ApiBody({ schema: REPLACE_KEYS })
  @ApiAnswer(200, 'The member with its new JWKS', MEMBER)
  @ApiProblems([400, 'VALIDATION_FAILED'], [403, 'ROLE_FORBIDDEN (the member itself or an admin)'], [404, 'MEMBER_NOT_FOUND'], CHANGE_NOT_AUDITED)
  replaceKeys(@CurrentCaller() caller: Caller, @Param('id') id: string, @Body(new JsonBody(REPLACE_KEYS)) body: unknown): Promise<MemberView> {
    return this.members.replaceKeys(caller, id, body);
  }
}
