import type { Caller } from '@datarun/auth';
import { CurrentCaller } from '@datarun/auth-guard';
import { CaseSearch, type CitizenCaseView } from '@datarun/cases';
import { ApiAnswer, ApiProblems, Roles } from '@datarun/platform';
import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CITIZEN_CASES } from './answers.js';

/** A citizen's own cases (浙里办): where they are a party, in any hall, and how far each is. */
@ApiTags('cases')
@ApiBearerAuth()
@Roles('citizen')
@Controller('v1/me/cases')
export class MyCasesController {
  constructor(private readonly search: CaseSearch) {}

  @Get()
  @ApiOperation({ operationId: 'listMyCases', summary: 'My cases, with every approval and recipient' })
  @ApiAnswer(200, 'The cases where the citizen is a party, newest first (every ID number masked)', CITIZEN_CASES)
  @ApiProblems([400, 'ID_NUMBER_INVALID (the token subject is not an ID number)'], [403, 'ROLE_FORBIDDEN (citizen tokens only)'])
  mine(@CurrentCaller() caller: Caller): Promise<{ items: CitizenCaseView[] }> {
    return this.search.mine(caller);
  }
}
