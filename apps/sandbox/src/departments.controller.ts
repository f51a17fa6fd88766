import { DATARUN_CONFIG, type DatarunConfig } from '@datarun/config';
import { ApiAnswer, ApiProblems, PublicRoute } from '@datarun/platform';
import { Controller, Get, Inject, Param } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { DEPARTMENT_RECORD } from './answers.js';
import { SANDBOX_DEPARTMENTS, SyntheticDepartments } from './synthetic-departments.js';

/**
 * The federated endpoints of the four simulated departments: what `FederatedSourceAdapter` calls
 * as `GET {endpoint}/records/{subject}` with endpoint `http://<sandbox>/v1/departments/<source>`.
 * Public: a department's own endpoint does not take datarun member tokens.
 */
@ApiTags('sandbox')
@PublicRoute()
@Controller('v1/departments')
export class SandboxDepartmentsController {
  private readonly departments: SyntheticDepartments;

  constructor(@Inject(DATARUN_CONFIG) config: DatarunConfig) {
    this.departments = new SyntheticDepartments(config.sandbox);
  }

  @Get(':source/records/:subject')
  @ApiOperation({ operationId: 'getDepartmentRecord', summary: "Get a simulated department's record" })
  @ApiParam({ name: 'source', enum: SANDBOX_DEPARTMENTS, description: 'the data source the department serves' })
  @ApiParam({ name: 'subject', description: 'the subject key: an 18-character resident ID number' })
  @ApiAnswer(200, "The subject's record, valid against schemas/records/<source>.json", DEPARTMENT_RECORD)
  @ApiProblems([404, 'RECORD_NOT_FOUND (unknown subject or department)'])
  record(@Param('source') source: string, @Param('subject') subject: string): Record<string, unknown> {
    return this.departments.record(source, subject);
  }
}
