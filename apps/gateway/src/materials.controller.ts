import { CaseMaterials, MATERIAL_MEDIA_TYPES } from '@datarun/cases';
import { ApiAnswer, ApiProblems, PublicRoute } from '@datarun/platform';
import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { MATERIAL_BYTES } from './answers.js';
import type { FastifyReply } from 'fastify';

const EXTENSIONS: Readonly<Record<string, string>> = {
  'application/pdf': 'pdf',
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/tiff': 'tif',
  'image/webp': 'webp',
};

/** `attachment` named after the material type: an ASCII name, and the exact one in RFC 8187 form. */
function attachmentOf(type: string, contentType: string): string {
  const ext = EXTENSIONS[contentType] ?? 'bin';
  const ascii = /^[A-Za-z0-9._-]{1,64}$/.test(type) ? type : 'material';
  const exact = encodeURIComponent(`${type}.${ext}`).replace(/['()*!]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}.${ext}"; filename*=UTF-8''${exact}`;
}

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
    "The material's bytes, in the media type it was uploaded with (checked by its magic numbers at upload), as an attachment (content-disposition) with x-content-type-options nosniff; header x-content-sha256 carries the hash the recipient must check",
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
    // Bytes a citizen's counter uploaded, served to a recipient's browser or client: saved as a file
    // of the stored media type, never rendered in the page nor sniffed into another type.
    void reply
      .header('content-type', material.contentType)
      .header('x-content-type-options', 'nosniff')
      .header('content-disposition', attachmentOf(material.type, material.contentType))
      .header('x-content-sha256', material.sha256)
      .header('cache-control', 'no-store');
    return material.bytes;
  }
}
