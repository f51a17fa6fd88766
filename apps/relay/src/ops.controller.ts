import type { Caller } from '@datarun/auth';
import { CurrentCaller } from '@datarun/auth-guard';
import { ApiAnswer, ApiProblems, Roles } from '@datarun/platform';
import { type DeadLetterPage, DeadLettersService, type DeadLetterView, MAX_DEAD_LETTER_LIMIT } from '@datarun/transfers';
import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { DEAD_LETTER, DEAD_LETTER_PAGE } from './answers.js';

/** Operations on what went wrong in transit (docs/operations.md, dead letters); admins only. */
@ApiTags('operations')
@ApiBearerAuth()
@Roles('admin')
@Controller('v1/ops/dead-letters')
export class OpsController {
  constructor(private readonly deadLetters: DeadLettersService) {}

  @Get()
  @ApiOperation({ operationId: 'listDeadLetters', summary: 'List dead letters' })
  @ApiQuery({ name: 'topic', required: false, description: 'only dead letters from this original topic' })
  @ApiQuery({ name: 'limit', required: false, description: `1..${MAX_DEAD_LETTER_LIMIT}, default 100` })
  @ApiQuery({ name: 'cursor', required: false, description: 'the `next` of the previous page' })
  @ApiAnswer(200, 'Dead-lettered events, newest first', DEAD_LETTER_PAGE)
  @ApiProblems([400, 'VALIDATION_FAILED'], [403, 'ROLE_FORBIDDEN (admins only)'])
  list(
    @CurrentCaller() caller: Caller,
    @Query('topic') topic?: string,
    @Query('limit') limit?: string,
    @Query('cursor') cursor?: string,
  ): Promise<DeadLetterPage> {
    return this.deadLetters.list(caller, { topic, limit: limit === undefined ? undefined : Number(limit), cursor });
  }

  @Post(':id/replay')
  @ApiOperation({ operationId: 'replayDeadLetter', summary: 'Replay a dead letter' })
  @HttpCode(200)
  @ApiParam({ name: 'id', description: 'a dead letter id from the listing' })
  @ApiAnswer(200, 'The dead letter after its replay', DEAD_LETTER)
  @ApiProblems(
    [403, 'ROLE_FORBIDDEN (admins only)'],
    [404, 'DEAD_LETTER_NOT_FOUND'],
    [409, 'STATE_CONFLICT (the message names no original topic), DEAD_LETTER_PLANTED (not sealed by datarun or its recipient: never replayed)'],
    [503, 'SERVICE_UNAVAILABLE (Kafka did not take the message), AUDIT_UNAVAILABLE'],
  )
  replay(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<DeadLetterView> {
    return this.deadLetters.replay(caller, id);
  }
}
