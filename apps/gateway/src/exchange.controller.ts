import type { Caller } from '@datarun/auth';
import { CurrentCaller } from '@datarun/auth-guard';
import { type BundleItem, ExchangeService, type LookupAnswer } from '@datarun/lookups';
import { ApiAnswer, ApiProblems, JsonBody, Roles } from '@datarun/platform';
import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { EVIDENCE_BUNDLE_ANSWER, LOOKUP_ANSWER, VERIFICATION_ANSWER } from './answers.js';
import { EVIDENCE_BUNDLE, LOOKUP, VERIFICATION } from './bodies.js';

const POLICY_REFUSALS: [number, string] = [
  403,
  'ROLE_FORBIDDEN, GRANT_MISSING, PURPOSE_NOT_GRANTED, FIELD_NOT_GRANTED, SUBJECT_NOT_IN_CASE, CASE_NOT_OPEN (each with the auditId of the refusal)',
];
const SOURCE_FAILURES: Array<[number, string]> = [
  [502, 'SOURCE_UNAVAILABLE, SOURCE_RESPONSE_INVALID'],
  [503, 'AUDIT_UNAVAILABLE: the access could not be audited, so no data'],
  [504, 'SOURCE_TIMEOUT'],
];

type LookupBody = { source: string; subject: { idNumber: string }; purpose: string; caseId: string; fields?: string[] };
type VerificationBody = Omit<LookupBody, 'fields'> & { claims: Record<string, unknown> };

@ApiTags('exchange')
@ApiBearerAuth()
@Roles('consumer')
@Controller('v1')
export class ExchangeController {
  constructor(private readonly exchange: ExchangeService) {}

  @Post('lookups')
  @ApiOperation({ operationId: 'lookup', summary: 'Look up a record' })
  @HttpCode(200)
  @ApiBody({ schema: LOOKUP })
  @ApiAnswer(200, 'The granted fields of the record, masked by classification, with their provenance and the audit id', LOOKUP_ANSWER)
  @ApiProblems(
    [400, 'VALIDATION_FAILED, ID_NUMBER_INVALID'],
    POLICY_REFUSALS,
    [404, 'SOURCE_NOT_FOUND, CASE_NOT_FOUND, RECORD_NOT_FOUND'],
    [413, 'PAYLOAD_TOO_LARGE'],
    ...SOURCE_FAILURES,
  )
  lookup(@CurrentCaller() caller: Caller, @Body(new JsonBody(LOOKUP)) body: LookupBody): Promise<LookupAnswer> {
    return this.exchange.lookup({
      caller,
      source: body.source,
      subject: body.subject.idNumber,
      purpose: body.purpose,
      caseId: body.caseId,
      fields: body.fields,
    });
  }

  @Post('verifications')
  @ApiOperation({ operationId: 'verify', summary: 'Verify claims about a record' })
  @HttpCode(200)
  @ApiBody({ schema: VERIFICATION })
  @ApiAnswer(200, 'Whether every claim matches the record; no record field leaves', VERIFICATION_ANSWER)
  @ApiProblems([400, 'VALIDATION_FAILED, ID_NUMBER_INVALID'], POLICY_REFUSALS, [404, 'SOURCE_NOT_FOUND, CASE_NOT_FOUND, RECORD_NOT_FOUND'], ...SOURCE_FAILURES)
  verify(@CurrentCaller() caller: Caller, @Body(new JsonBody(VERIFICATION)) body: VerificationBody): Promise<{ match: boolean; auditId: string }> {
    return this.exchange.verify({
      caller,
      source: body.source,
      subject: body.subject.idNumber,
      purpose: body.purpose,
      caseId: body.caseId,
      claims: body.claims,
    });
  }

  @Post('evidence-bundles')
  @ApiOperation({ operationId: 'bundleEvidence', summary: 'Collect the evidence of a case' })
  @HttpCode(200)
  @ApiBody({ schema: EVIDENCE_BUNDLE })
  @ApiAnswer(200, "Every evidence source of the case's matter for every party, looked up in parallel: one result or problem each", EVIDENCE_BUNDLE_ANSWER)
  @ApiProblems([403, 'ROLE_FORBIDDEN'], [404, 'CASE_NOT_FOUND'], [503, 'AUDIT_UNAVAILABLE'])
  bundle(
    @CurrentCaller() caller: Caller,
    @Body(new JsonBody(EVIDENCE_BUNDLE)) body: { caseId: string },
  ): Promise<{ caseId: string; matter: string; items: BundleItem[] }> {
    return this.exchange.bundle(caller, body.caseId);
  }
}
