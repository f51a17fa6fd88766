import type { Caller } from '@datarun/auth';
import { CurrentCaller } from '@datarun/auth-guard';
import { type MatterStats, MatterStatistics } from '@datarun/cases';
import { ApiAnswer, ApiProblems, Roles } from '@datarun/platform';
import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { MATTER_STATS } from './answers.js';

/** The hall's heat map and the auditors' figures: aggregates of the cases, no party in them. */
@ApiTags('cases')
@ApiBearerAuth()
@Roles('admin', 'auditor')
@Controller('v1/stats')
export class StatsController {
  constructor(private readonly statistics: MatterStatistics) {}

  @Get('matters')
  @ApiOperation({ operationId: 'getMatterStats', summary: 'Cases by matter, state and hour or day; times to completion; overdue approvals' })
  @ApiQuery({ name: 'from', required: false, description: 'ISO 8601 (default: 30 days before `to`)' })
  @ApiQuery({ name: 'to', required: false, description: 'ISO 8601, excluded (default: now)' })
  @ApiQuery({ name: 'bucket', required: false, enum: ['hour', 'day'], description: 'default day; a window spans at most 31 days of hours or 366 of days' })
  @ApiAnswer(200, 'The figures of every matter with cases in the window, and the heat map', MATTER_STATS)
  @ApiProblems([400, 'VALIDATION_FAILED (from, to, bucket, or a window too long)'], [403, 'ROLE_FORBIDDEN (administrators and auditors)'])
  matters(@CurrentCaller() caller: Caller, @Query('from') from?: string, @Query('to') to?: string, @Query('bucket') bucket?: string): Promise<MatterStats> {
    return this.statistics.of(caller, { from, to, bucket });
  }
}
