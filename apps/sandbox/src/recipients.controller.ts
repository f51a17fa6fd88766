import { ApiAnswer, ApiProblems, BodyLimit, JsonBody, PublicRoute } from '@datarun/platform';
import { APPLICATION_BODY_LIMIT } from '@datarun/transfers';
import { Body, Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { RECEIVED_BYTES, RECIPIENT_RECEIPT, RECIPIENT_REQUESTS, RECIPIENT_SUMMARY } from './answers.js';
import { HOLDER, MATERIALS, receivedBytes, SERVED_MEDIA_TYPES, text } from './applications.js';
import { type BenefitApplication, SimulatedRegisters } from './simulated-registers.js';

const DATE = { type: 'string', format: 'date' };
const BENEFIT_APPLICATION = {
  type: 'object',
  additionalProperties: false,
  required: ['requestId', 'request', 'benefit', 'beneficiary', 'decision', 'materials'],
  properties: {
    requestId: { type: 'string', format: 'uuid' },
    request: { enum: ['benefit'] },
    benefit: { type: 'string', pattern: '^[a-z][a-z0-9-]{1,63}$', description: 'The benefit’s code, as the matter names it' },
    accountNumber: text(64),
    beneficiary: HOLDER,
    decision: {
      type: 'object',
      additionalProperties: false,
      required: ['matter', 'decidedAt', 'validFrom'],
      properties: { matter: text(64), decidedAt: { type: 'string', format: 'date-time' }, validFrom: DATE, validUntil: DATE },
    },
    materials: MATERIALS,
  },
};

/**
 * The simulated departments' own systems that receive requests (人社, 教育, 残联…): a beneficiary
 * register per member, which a connector (or the sandbox's webhook of the member) applies benefit
 * requests to. Public: it stands for a system inside the department's network.
 */
@ApiTags('sandbox')
@PublicRoute()
@Controller('v1/recipients/:member')
export class SandboxRecipientsController {
  constructor(private readonly registers: SimulatedRegisters) {}

  @Get()
  @ApiOperation({ operationId: 'getRecipientSummary', summary: 'Summarise a simulated department’s beneficiary register' })
  @ApiAnswer(200, 'The register’s counts: also what a connector probes for readiness', RECIPIENT_SUMMARY)
  @ApiProblems([404, 'NOT_FOUND (not a member id)'], [503, 'SERVICE_UNAVAILABLE (simulated outage)'])
  summary(@Param('member') member: string): ReturnType<ReturnType<SimulatedRegisters['of']>['summary']> {
    return this.registers.of(member).summary();
  }

  @Post('requests')
  @ApiOperation({ operationId: 'applyRecipientRequest', summary: 'Apply a benefit request to a simulated department' })
  @HttpCode(200)
  @BodyLimit(APPLICATION_BODY_LIMIT)
  @ApiBody({ schema: BENEFIT_APPLICATION })
  @ApiAnswer(200, 'The department’s reference: a repeated request id answers the first reference and changes nothing', RECIPIENT_RECEIPT)
  @ApiProblems(
    [400, 'VALIDATION_FAILED (also: content not base64, or not of the size named), MATERIAL_HASH_MISMATCH (the bytes received are not of the SHA-256 named)'],
    [404, 'NOT_FOUND (not a member id)'],
    [503, 'SERVICE_UNAVAILABLE (simulated outage)'],
  )
  apply(
    @Param('member') member: string,
    @Body(new JsonBody(BENEFIT_APPLICATION)) body: BenefitApplication,
  ): Promise<{ reference: string; duplicate: boolean }> {
    return this.registers.of(member).apply(body);
  }

  @Get('requests')
  @ApiOperation({ operationId: 'listRecipientRequests', summary: 'List the requests a simulated department applied' })
  @ApiAnswer(
    200,
    'Applied requests in the order applied: the beneficiary as received, the decision, and the materials (the SHA-256 the department computed, and their size; never the bytes)',
    RECIPIENT_REQUESTS,
  )
  @ApiProblems([404, 'NOT_FOUND (not a member id)'])
  requests(@Param('member') member: string): { requests: unknown[] } {
    return { requests: [...this.registers.of(member).requests()] };
  }

  @Get('requests/:requestId/materials/:type')
  @ApiOperation({ operationId: 'getRecipientReceivedMaterial', summary: 'Get the bytes of a material a simulated department received' })
  @ApiAnswer(
    200,
    'The bytes received, in the media type they came with (another than the platform’s material types as application/octet-stream), as an attachment; each register keeps the most recent 64 MiB received',
    RECEIVED_BYTES,
    SERVED_MEDIA_TYPES,
  )
  @ApiProblems([404, 'NOT_FOUND (no such material received, or no longer kept)'])
  material(
    @Param('member') member: string,
    @Param('requestId') requestId: string,
    @Param('type') type: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Buffer {
    return receivedBytes(reply, this.registers.of(member).material(requestId, type));
  }
}
