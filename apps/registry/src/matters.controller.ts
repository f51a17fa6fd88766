import { type Caller, MEMBER_KINDS } from '@datarun/auth';
import { CurrentCaller } from '@datarun/auth-guard';
import { ApiAnswer, ApiProblems, CHANGE_NOT_AUDITED, JsonBody, Roles } from '@datarun/platform';
import { MattersService, type MatterView, type RegisterMatterCommand } from '@datarun/registry';
import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { MATTER, MATTERS } from './answers.js';
import { REGISTER_MATTER } from './bodies.js';

@ApiTags('matters')
@ApiBearerAuth()
@Controller('v1/matters')
export class MattersController {
  constructor(private readonly matters: MattersService) {}

  @Post()
  @Roles('admin')
  @ApiOperation({ operationId: 'registerMatter', summary: 'Register a matter' })
  @HttpCode(201)
  @ApiBody({ schema: REGISTER_MATTER })
  @ApiAnswer(201, 'The registered matter', MATTER)
  @ApiProblems(
    [
      400,
      'VALIDATION_FAILED (also: an onComplete entry its recipient does not handle, a transfer, discount or optional entry whose recipient receives for no utility kind, a benefit without its code, the same request twice)',
    ],
    [403, 'ROLE_FORBIDDEN (admins only)'],
    [404, 'SOURCE_NOT_FOUND, RECIPIENT_NOT_FOUND (an onComplete notify no member receives for: register its recipient settings first)'],
    [409, 'ALREADY_EXISTS'],
    CHANGE_NOT_AUDITED,
  )
  register(@CurrentCaller() caller: Caller, @Body(new JsonBody(REGISTER_MATTER)) body: RegisterMatterCommand): Promise<MatterView> {
    return this.matters.register(caller, body);
  }

  @Get()
  @Roles(...MEMBER_KINDS)
  @ApiOperation({ operationId: 'listMatters', summary: 'List matters' })
  @ApiAnswer(200, 'Every matter', MATTERS)
  @ApiProblems([403, 'ROLE_FORBIDDEN (members only: not a citizen token)'])
  async list(@CurrentCaller() caller: Caller): Promise<{ items: MatterView[] }> {
    return { items: await this.matters.list(caller) };
  }

  @Get(':code')
  @Roles(...MEMBER_KINDS)
  @ApiOperation({ operationId: 'getMatter', summary: 'Get a matter' })
  @ApiAnswer(200, 'One matter', MATTER)
  @ApiProblems([403, 'ROLE_FORBIDDEN (members only: not a citizen token)'], [404, 'MATTER_NOT_FOUND'])
  get(@CurrentCaller() caller: Caller, @Param('code') code: string): Promise<MatterView> {
    return this.matters.describe(caller, code);
  }
}
