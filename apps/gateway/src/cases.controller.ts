import type { Caller } from '@datarun/auth';
import { CurrentCaller } from '@datarun/auth-guard';
import { CasesService, type CaseView, type OpenCaseCommand } from '@datarun/cases';
import { ApiProblems, JsonBody } from '@datarun/platform';
import { Problem } from '@datarun/problems';
import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { OPEN_CASE } from './bodies.js';

const caseId = new ParseUUIDPipe({ exceptionFactory: () => new Problem('CASE_NOT_FOUND', 'no such case') });

@ApiTags('cases')
@ApiBearerAuth()
@Controller('v1/cases')
export class CasesController {
  constructor(private readonly cases: CasesService) {}

  @Post()
  @HttpCode(201)
  @ApiBody({ schema: OPEN_CASE })
  @ApiCreatedResponse({ description: 'the open case' })
  @ApiProblems([400, 'VALIDATION_FAILED, ID_NUMBER_INVALID'], [403, 'ROLE_FORBIDDEN (consumers only)'], [404, 'MATTER_NOT_FOUND'])
  open(@CurrentCaller() caller: Caller, @Body(new JsonBody(OPEN_CASE)) body: OpenCaseCommand): Promise<CaseView> {
    return this.cases.open(caller, body);
  }

  @Get(':id')
  @ApiOkResponse({ description: 'the case with its parties, materials and transfers' })
  @ApiProblems([404, 'CASE_NOT_FOUND (also for another member’s case)'])
  get(@CurrentCaller() caller: Caller, @Param('id', caseId) id: string): Promise<CaseView> {
    return this.cases.get(caller, id);
  }

  @Post(':id/withdraw')
  @HttpCode(200)
  @ApiOkResponse({ description: 'the withdrawn case' })
  @ApiProblems([403, 'ROLE_FORBIDDEN'], [404, 'CASE_NOT_FOUND'], [409, 'STATE_CONFLICT (not open)'])
  withdraw(@CurrentCaller() caller: Caller, @Param('id', caseId) id: string): Promise<CaseView> {
    return this.cases.withdraw(caller, id);
  }
}
