import type { Caller } from '@datarun/auth';
import { CurrentCaller } from '@datarun/auth-guard';
import { APPROVAL_PAGE, CaseApprovals, type ApprovalTaskView } from '@datarun/cases';
import { ApiAnswer, ApiProblems, CHANGE_NOT_AUDITED, JsonBody, Roles } from '@datarun/platform';
import { Problem } from '@datarun/problems';
import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { APPROVAL_TASK, APPROVAL_TASK_PAGE } from './answers.js';
import { DECIDE_APPROVAL } from './bodies.js';

const approvalId = new ParseUUIDPipe({ exceptionFactory: () => new Problem('APPROVAL_NOT_FOUND', 'no such approval task') });

/** 并联审批: a department's approval tasks, and its decisions on them. */
@ApiTags('approvals')
@ApiBearerAuth()
@Roles('department')
@Controller('v1/approvals')
export class ApprovalsController {
  constructor(private readonly approvals: CaseApprovals) {}

  @Get()
  @ApiOperation({ operationId: 'listApprovals', summary: 'List the approval tasks of the caller, oldest due first' })
  @ApiQuery({ name: 'state', required: false, enum: ['pending', 'approved', 'rejected'], description: 'absent: every state' })
  @ApiQuery({ name: 'cursor', required: false, description: 'the `next` of the previous page' })
  @ApiQuery({ name: 'limit', required: false, description: `1 to ${APPROVAL_PAGE.max}, default ${APPROVAL_PAGE.default}` })
  @ApiAnswer(200, 'The caller’s tasks (a pending task of a case no longer approving is left out)', APPROVAL_TASK_PAGE)
  @ApiProblems([400, 'VALIDATION_FAILED (state, cursor or limit)'], [403, 'ROLE_FORBIDDEN (departments only)'])
  list(
    @CurrentCaller() caller: Caller,
    @Query('state') state?: string,
    @Query('cursor') cursor?: string,
    @Query('limit') limit?: string,
  ): Promise<{ items: ApprovalTaskView[]; next?: string }> {
    return this.approvals.queue(caller, { state, cursor, limit: limit === undefined ? undefined : Number(limit) });
  }

  @Post(':id/approve')
  @ApiOperation({ operationId: 'approveApproval', summary: 'Approve a case (the caller’s task)' })
  @HttpCode(200)
  @ApiBody({ schema: DECIDE_APPROVAL, required: false })
  @ApiAnswer(200, 'The decided task; the case reads `open` once every task is approved (approving again changes nothing)', APPROVAL_TASK)
  @ApiProblems(
    [400, 'VALIDATION_FAILED'],
    [403, 'ROLE_FORBIDDEN (departments only)'],
    [404, 'APPROVAL_NOT_FOUND (also for another department’s task)'],
    [409, 'STATE_CONFLICT (already rejected, or the case is no longer approving)'],
    CHANGE_NOT_AUDITED,
  )
  approve(
    @CurrentCaller() caller: Caller,
    @Param('id', approvalId) id: string,
    @Body(new JsonBody(DECIDE_APPROVAL, { optional: true })) body?: { reason?: string },
  ): Promise<ApprovalTaskView> {
    return this.approvals.decide(caller, id, 'approved', body?.reason);
  }

  @Post(':id/reject')
  @ApiOperation({ operationId: 'rejectApproval', summary: 'Reject a case (the caller’s task), with a reason' })
  @HttpCode(200)
  @ApiBody({ schema: DECIDE_APPROVAL })
  @ApiAnswer(200, 'The decided task; the case reads `rejected` with the reason and can no longer complete', APPROVAL_TASK)
  @ApiProblems(
    [400, 'VALIDATION_FAILED (no reason)'],
    [403, 'ROLE_FORBIDDEN (departments only)'],
    [404, 'APPROVAL_NOT_FOUND (also for another department’s task)'],
    [409, 'STATE_CONFLICT (already approved, or the case is no longer approving)'],
    CHANGE_NOT_AUDITED,
  )
  reject(
    @CurrentCaller() caller: Caller,
    @Param('id', approvalId) id: string,
    @Body(new JsonBody(DECIDE_APPROVAL)) body: { reason?: string },
  ): Promise<ApprovalTaskView> {
    return this.approvals.decide(caller, id, 'rejected', body?.reason);
  }
}
