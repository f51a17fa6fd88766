import { CaseMaterials } from '@datarun/cases';
import { ApiProblems, PublicRoute } from '@datarun/platform';
import { Controller, Get, Param, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiQuery, ApiTags, ApiOperation } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';

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
  @ApiOkResponse({ description: "the material's bytes; header x-content-sha256 carries the hash the recipient must check" })
  @ApiProblems([403, 'LINK_INVALID (altered), LINK_EXPIRED'], [404, 'MATERIAL_NOT_FOUND'])
  async fetch(
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Buffer> {
    const material = await this.materials.fetch(id, query, req.id);
    void reply.header('content-type', material.contentType).header('x-content-sha256', material.sha256).header('cache-control', 'no-store');
    return material.bytes;
  }
}
