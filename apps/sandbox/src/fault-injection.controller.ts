import { ApiAnswer, JsonBody, PublicRoute } from '@datarun/platform';
import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { SimulatedUtilities } from './simulated-utilities.js';

const LATENCY = { type: 'object', additionalProperties: false, required: ['ms'], properties: { ms: { type: 'integer', minimum: 0, maximum: 60000 } } };
const OUTAGE = { type: 'object', additionalProperties: false, required: ['seconds'], properties: { seconds: { type: 'integer', minimum: 0, maximum: 3600 } } };

/**
 * Fault injection for demos and tests: take a simulated utility down, or slow it, or reopen one of
 * its CLOSED accounts (a refusal fixed, so that the request can be sent again). Public like the
 * simulations, so anyone who reaches the sandbox could stop the utilities' flow with it: the
 * sandbox module registers it only outside production (SandboxModule).
 */
@ApiTags('sandbox')
@PublicRoute()
@Controller('v1/utilities/:kind')
export class SandboxFaultInjectionController {
  constructor(private readonly utilities: SimulatedUtilities) {}

  @Post('outage')
  @ApiOperation({ operationId: 'startUtilityOutage', summary: 'Take a simulated utility down (development and test only)' })
  @HttpCode(204)
  @ApiBody({ schema: OUTAGE })
  @ApiAnswer(204, 'The system answers 503 SERVICE_UNAVAILABLE for that many seconds')
  outage(@Param('kind') kind: string, @Body(new JsonBody(OUTAGE)) body: { seconds: number }): void {
    this.utilities.of(kind).outage(body.seconds);
  }

  @Post('latency')
  @ApiOperation({ operationId: 'setUtilityLatency', summary: 'Slow a simulated utility down (development and test only)' })
  @HttpCode(204)
  @ApiBody({ schema: LATENCY })
  @ApiAnswer(204, 'Every request to the system takes that long from now on')
  latency(@Param('kind') kind: string, @Body(new JsonBody(LATENCY)) body: { ms: number }): void {
    this.utilities.of(kind).slowDown(body.ms);
  }

  @Post('accounts/:account/reopen')
  @ApiOperation({
    operationId: 'reopenUtilityAccount',
    summary: 'Reopen a CLOSED account, or repair a FAILING one, of a simulated utility (development and test only)',
  })
  @HttpCode(204)
  @ApiAnswer(204, 'The account takes requests from now on: a request it refused, sent again, applies; one it failed applies on its next try')
  reopen(@Param('kind') kind: string, @Param('account') account: string): void {
    this.utilities.of(kind).reopen(account);
  }
}
