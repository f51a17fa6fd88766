import { ApiAnswer, ApiProblems, BodyLimit, JsonBody, PublicRoute } from '@datarun/platform';
import { APPLICATION_BODY_LIMIT } from '@datarun/transfers';
import { Body, Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { HOLDER, MATERIALS, receivedBytes, SERVED_MEDIA_TYPES, text } from './applications.js';
import { RECEIVED_BYTES, UTILITY_ACCOUNT, UTILITY_RECEIPT, UTILITY_REQUESTS, UTILITY_SUMMARY } from './answers.js';
import { SimulatedUtilities, type UtilityApplication } from './simulated-utilities.js';

const APPLICATION = {
  type: 'object',
  additionalProperties: false,
  required: ['requestId', 'request', 'accountNumber', 'holder', 'effectiveDate', 'materials'],
  properties: {
    requestId: { type: 'string', format: 'uuid' },
    request: { enum: ['transfer', 'discount'] },
    accountNumber: text(64),
    holder: HOLDER,
    matter: text(64),
    property: { type: 'object', additionalProperties: false, required: ['unitNumber', 'address'], properties: { unitNumber: text(64), address: text(300) } },
    effectiveDate: { type: 'string', format: 'date' },
    recipient: { ...text(128), description: 'The member the request was addressed to' },
    materials: MATERIALS,
  },
};

/**
 * The simulated utilities' own systems, one per utility kind (water, power, gas, cable, …), which
 * their connectors (and the sandbox's broadband webhook) apply transfers and discounts to. Public:
 * it stands for a system inside the utility's network.
 */
@ApiTags('sandbox')
@PublicRoute()
@Controller('v1/utilities/:kind')
export class SandboxUtilitiesController {
  constructor(private readonly utilities: SimulatedUtilities) {}

  @Get()
  @ApiOperation({ operationId: 'getUtilitySummary', summary: 'Summarise a simulated utility' })
  @ApiAnswer(200, 'The simulated system’s counts: also what the connector probes for readiness', UTILITY_SUMMARY)
  @ApiProblems([503, 'SERVICE_UNAVAILABLE (simulated outage)'])
  summary(@Param('kind') kind: string): ReturnType<ReturnType<SimulatedUtilities['of']>['summary']> {
    return this.utilities.of(kind).summary();
  }

  @Post('requests')
  @ApiOperation({ operationId: 'applyUtilityRequest', summary: 'Apply a request to a simulated utility' })
  @HttpCode(200)
  // The documents travel in the body: room for every material a request may carry at its largest.
  @BodyLimit(APPLICATION_BODY_LIMIT)
  @ApiBody({ schema: APPLICATION })
  @ApiAnswer(200, 'The utility’s reference: a repeated request id answers the first reference and changes nothing', UTILITY_RECEIPT)
  @ApiProblems(
    [400, 'VALIDATION_FAILED (also: content not base64, or not of the size named), MATERIAL_HASH_MISMATCH (the bytes received are not of the SHA-256 named)'],
    [409, 'STATE_CONFLICT (account closed)'],
    [503, 'SERVICE_UNAVAILABLE (simulated outage)'],
  )
  apply(@Param('kind') kind: string, @Body(new JsonBody(APPLICATION)) body: UtilityApplication): Promise<{ reference: string; duplicate: boolean }> {
    return this.utilities.of(kind).apply(body);
  }

  @Get('requests')
  @ApiOperation({ operationId: 'listUtilityRequests', summary: 'List the requests a simulated utility applied' })
  @ApiAnswer(
    200,
    'Applied requests in the order applied, each with how many calls carried it and the materials received (the SHA-256 this system computed from the bytes, and their size; never the bytes)',
    UTILITY_REQUESTS,
  )
  requests(@Param('kind') kind: string): { requests: unknown[] } {
    return { requests: [...this.utilities.of(kind).requests()] };
  }

  @Get('requests/:requestId/materials/:type')
  @ApiOperation({ operationId: 'getUtilityReceivedMaterial', summary: 'Get the bytes of a material a simulated utility received' })
  @ApiAnswer(
    200,
    'The bytes received, in the media type they came with (another than the platform’s material types as application/octet-stream), as an attachment; the sandbox keeps the most recent 64 MiB received',
    RECEIVED_BYTES,
    SERVED_MEDIA_TYPES,
  )
  @ApiProblems([404, 'NOT_FOUND (no such material received, or no longer kept)'])
  material(
    @Param('kind') kind: string,
    @Param('requestId') requestId: string,
    @Param('type') type: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Buffer {
    return receivedBytes(reply, this.utilities.of(kind).material(requestId, type));
  }

  @Get('accounts/:number')
  @ApiOperation({ operationId: 'getUtilityAccount', summary: 'Get a simulated utility account' })
  @ApiAnswer(200, 'An account with its holder, discounts, the requests applied to it and the materials received with them', UTILITY_ACCOUNT)
  @ApiProblems([404, 'NOT_FOUND (no such account)'])
  account(@Param('kind') kind: string, @Param('number') number: string): unknown {
    return this.utilities.of(kind).account(number);
  }
}
