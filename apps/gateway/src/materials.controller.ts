import { CaseMaterials, MATERIAL_MEDIA_TYPES } from '@datarun/cases';
import { ApiAnswer, ApiProblems, PublicRoute } from '@datarun/platform';
import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { MATERIAL_BYTES } from './answers.js';
import type { FastifyReply } from 'fastify';

/**
 * Signed material links (claim checks). No token: the signature is the permission, and it names
 * the request and the recipient it was issued to.
 */
@ApiTags('cases')
@PublicRoute()
@Controller('v1/materials')
export class MaterialsController {
  constructor(private readonly materials: CaseMaterials) {}

  @Get(':id')
  @ApiOperation({ operationId: 'fetchMaterial', summary: "Fetch a material's bytes through a signed link" })
  @ApiQuery({ name: 'req', description: 'the utility request the link was issued for' })
  @ApiQuery({ name: 'to', description: 'the recipient utility kind' })
  @ApiQuery({ name: 'exp', description: 'expiry, Unix seconds' })
  @ApiQuery({ name: 'sig', description: 'HMAC-SHA256 over the above and the material id' })
  @ApiAnswer(
    200,
    "The material's bytes, in the media type it was uploaded with; header x-content-sha256 carries the hash the recipient must check",
    MATERIAL_BYTES,
    MATERIAL_MEDIA_TYPES,
  )
  @ApiProblems(
    [403, 'LINK_INVALID (altered), LINK_EXPIRED'],
    [404, 'MATERIAL_NOT_FOUND'],
    [503, 'AUDIT_UNAVAILABLE: the fetch could not be audited, so no bytes'],
  )
  async fetch(@Param('id') id: string, @Query() query: Record<string, unknown>, @Res({ passthrough: true }) reply: FastifyReply): Promise<Buffer> {
    const material = await this.materials.fetch(id, query);
    void reply.header('content-type', material.contentType).header('x-content-sha256', material.sha256).header('cache-control', 'no-store');
    return material.bytes;
  }
}
