import type { Caller } from '@datarun/auth';
import { CurrentCaller } from '@datarun/auth-guard';
import { ApiAnswer, ApiProblems, CHANGE_NOT_AUDITED, JsonBody, Roles } from '@datarun/platform';
import { Problem } from '@datarun/problems';
import { RecipientRequests, type RecipientRequestView, REQUEST_PAGE, type StatusReport } from '@datarun/transfers';
import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { RECIPIENT_REQUEST, RECIPIENT_REQUEST_PAGE } from './answers.js';
import { STATUS_REPORT } from './bodies.js';

const requestId = new ParseUUIDPipe({ exceptionFactory: () => new Problem('TRANSFER_NOT_FOUND', 'no such request') });

/** A recipient's requests over HTTP: the pull fallback and the answer of a recipient that takes delivery by webhook. */
@ApiTags('requests')
@ApiBearerAuth()
@Roles('utility', 'department')
@Controller('v1/requests')
export class RequestsController {
  constructor(private readonly requests: RecipientRequests) {}

  @Get()
  @ApiOperation({ operationId: 'listRequests', summary: 'List the requests addressed to the caller' })
  @ApiQuery({ name: 'state', required: false, enum: ['published', 'accepted', 'completed', 'rejected', 'superseded'] })
  @ApiQuery({ name: 'cursor', required: false, description: 'the `next` of the previous page' })
  @ApiQuery({ name: 'limit', required: false, description: `1 to ${REQUEST_PAGE.max}, default ${REQUEST_PAGE.default}` })
  @ApiAnswer(200, 'The requests sent to the caller, in the order they were sent, with fresh material links', RECIPIENT_REQUEST_PAGE)
  @ApiProblems([400, 'VALIDATION_FAILED (state, cursor or limit)'], [403, 'ROLE_FORBIDDEN (utilities and departments only)'])
  list(
    @CurrentCaller() caller: Caller,
    @Query('state') state?: string,
    @Query('cursor') cursor?: string,
    @Query('limit') limit?: string,
  ): Promise<{ items: RecipientRequestView[]; next?: string }> {
    return this.requests.list(caller, { state, cursor, limit: limit === undefined ? undefined : Number(limit) });
  }

  @Get(':requestId')
  @ApiOperation({ operationId: 'getRequest', summary: 'One request addressed to the caller, with fresh material links' })
  @ApiAnswer(200, 'The request as its recipient receives it, its material links issued now (for links that expired in a backlog)', RECIPIENT_REQUEST)
  @ApiProblems([403, 'ROLE_FORBIDDEN (utilities and departments only)'], [404, 'TRANSFER_NOT_FOUND (also for a request addressed to another member)'])
  one(@CurrentCaller() caller: Caller, @Param('requestId', requestId) id: string): Promise<RecipientRequestView> {
    return this.requests.one(caller, id);
  }

  @Post(':requestId/status')
  @HttpCode(200)
  @ApiOperation({ operationId: 'reportRequestStatus', summary: 'Report progress on a request addressed to the caller' })
  @ApiBody({ schema: STATUS_REPORT })
  @ApiAnswer(200, 'The request after the status (a status that is no step forward changes nothing and answers the same)', RECIPIENT_REQUEST)
  @ApiProblems(
    [400, 'VALIDATION_FAILED'],
    [403, 'ROLE_FORBIDDEN (utilities and departments only)'],
    [404, 'TRANSFER_NOT_FOUND (also for a request addressed to another member)'],
    CHANGE_NOT_AUDITED,
  )
  report(
    @CurrentCaller() caller: Caller,
    @Param('requestId', requestId) id: string,
    @Body(new JsonBody(STATUS_REPORT)) body: StatusReport,
  ): Promise<RecipientRequestView> {
    return this.requests.reportStatus(caller, id, body);
  }
}
