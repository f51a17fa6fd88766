import { ApiAnswer, ApiProblems, JsonBody, PublicRoute } from '@datarun/platform';
import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { UTILITY_ACCOUNT, UTILITY_RECEIPT, UTILITY_REQUESTS, UTILITY_SUMMARY } from './answers.js';
import { SimulatedUtilities, type UtilityApplication } from './simulated-utilities.js';

const text = (max: number) => ({ type: 'string', minLength: 1, maxLength: max });
const APPLICATION = {
  type: 'object',
  additionalProperties: false,
  required: ['requestId', 'request', 'accountNumber', 'holder', 'effectiveDate', 'materials'],
  properties: {
    requestId: { type: 'string', format: 'uuid' },
    request: { enum: ['transfer', 'discount'] },
    accountNumber: text(64),
    holder: { type: 'object', additionalProperties: false, required: ['name', 'idNumberMasked'], properties: { name: text(100), idNumberMasked: text(18) } },
    matter: text(64),
    property: { type: 'object', additionalProperties: false, required: ['unitNumber', 'address'], properties: { unitNumber: text(64), address: text(300) } },
    effectiveDate: { type: 'string', format: 'date' },
    materials: {
      type: 'array',
      maxItems: 50,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['type', 'sha256'],
        properties: { type: text(64), sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
      },
    },
  },
};

/**
 * The simulated water, power and gas companies' own systems, which the reference utility bridge
 * applies transfers to. Public: it stands for a system inside the utility's network.
 */
@ApiTags('sandbox')
@PublicRoute()
@Controller('v1/utilities/:kind')
export class SandboxUtilitiesController {
  constructor(private readonly utilities: SimulatedUtilities) {}

  @Get()
  @ApiOperation({ operationId: 'getUtilitySummary', summary: 'Summarise a simulated utility' })
  @ApiAnswer(200, 'The simulated system’s counts: also what the bridge probes for readiness', UTILITY_SUMMARY)
  @ApiProblems([503, 'SERVICE_UNAVAILABLE (simulated outage)'])
  summary(@Param('kind') kind: string): ReturnType<ReturnType<SimulatedUtilities['of']>['summary']> {
    return this.utilities.of(kind).summary();
  }

  @Post('requests')
  @ApiOperation({ operationId: 'applyUtilityRequest', summary: 'Apply a request to a simulated utility' })
  @HttpCode(200)
  @ApiBody({ schema: APPLICATION })
  @ApiAnswer(200, 'The utility’s reference: a repeated request id answers the first reference and changes nothing', UTILITY_RECEIPT)
  @ApiProblems([400, 'VALIDATION_FAILED'], [409, 'STATE_CONFLICT (account closed)'], [503, 'SERVICE_UNAVAILABLE (simulated outage)'])
  apply(@Param('kind') kind: string, @Body(new JsonBody(APPLICATION)) body: UtilityApplication): Promise<{ reference: string; duplicate: boolean }> {
    return this.utilities.of(kind).apply(body);
  }

  @Get('requests')
  @ApiOperation({ operationId: 'listUtilityRequests', summary: 'List the requests a simulated utility applied' })
  @ApiAnswer(200, 'Applied requests in the order applied, each with how many calls carried it', UTILITY_REQUESTS)
  requests(@Param('kind') kind: string): { requests: unknown[] } {
    return { requests: [...this.utilities.of(kind).requests()] };
  }

  @Get('accounts/:number')
  @ApiOperation({ operationId: 'getUtilityAccount', summary: 'Get a simulated utility account' })
  @ApiAnswer(200, 'An account with its holder, discounts and the requests applied to it', UTILITY_ACCOUNT)
  @ApiProblems([404, 'NOT_FOUND (no such account)'])
  account(@Param('kind') kind: string, @Param('number') number: string): unknown {
    return this.utilities.of(kind).account(number);
  }
}
