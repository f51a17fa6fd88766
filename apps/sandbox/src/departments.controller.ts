import type { KeyObject } from 'node:crypto';
import { KeyRing, verifyPlatformCall } from '@datarun/auth';
import { DATARUN_CONFIG, type DatarunConfig } from '@datarun/config';
import { ApiAnswer, ApiProblems, PublicRoute } from '@datarun/platform';
import { Controller, Get, Headers, Inject, Param, Req } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { DEPARTMENT_RECORD } from './answers.js';
import { SANDBOX_DEPARTMENTS, SyntheticDepartments } from './synthetic-departments.js';

/**
 * The federated endpoints of the four simulated departments: what `FederatedSourceAdapter` calls
 * as `GET {endpoint}/records/{subject}` with endpoint `http://<sandbox>/v1/departments/<source>`.
 * No member token: like a real department, each endpoint takes only calls datarun signed for it,
 * a platform token (DATARUN_PLATFORM_PUBLIC_KEY, `GET /v1/platform/jwks` of the gateway) whose
 * audience is the department's source, and refuses anyone else with 401 before it looks anything up.
 */
@ApiTags('sandbox')
@PublicRoute()
@Controller('v1/departments')
export class SandboxDepartmentsController {
  private readonly departments: SyntheticDepartments;
  private readonly platformKeys: ReadonlyMap<string, KeyObject>;

  constructor(@Inject(DATARUN_CONFIG) config: DatarunConfig, keys: KeyRing) {
    this.departments = new SyntheticDepartments(config.sandbox);
    this.platformKeys = keys.require('platformPublicKey');
  }

  @Get(':source/records/:subject')
  @ApiOperation({ operationId: 'getDepartmentRecord', summary: "Get a simulated department's record" })
  @ApiParam({ name: 'source', enum: SANDBOX_DEPARTMENTS, description: 'the data source the department serves' })
  @ApiParam({ name: 'subject', description: 'the subject key: an 18-character resident ID number' })
  @ApiHeader({
    name: 'authorization',
    required: true,
    description:
      'Bearer platform token: ES256 by a platform key of the platform JWKS (never the delivery key), `aud` the source, at most two minutes, for this request (`htm`, `htu`), with `purpose`, `caseId`, `act.sub` and `correlationId`',
  })
  @ApiAnswer(200, "The subject's record, valid against schemas/records/<source>.json", DEPARTMENT_RECORD)
  @ApiProblems(
    [401, 'TOKEN_MISSING, TOKEN_INVALID, TOKEN_EXPIRED: not a call datarun signed for this source'],
    [404, 'RECORD_NOT_FOUND (unknown subject or department)'],
  )
  async record(
    @Param('source') source: string,
    @Param('subject') subject: string,
    @Req() request: FastifyRequest,
    @Headers('authorization') authorization?: string,
  ): Promise<Record<string, unknown>> {
    // For this source and this very request: a token issued for another person's record is refused.
    await verifyPlatformCall(authorization, this.platformKeys, { audience: source, request: { method: request.method, path: request.url.split('?')[0] } });
    return this.departments.record(source, subject);
  }
}
