import { CaseMaterials, MATERIAL_MEDIA_TYPES } from '@datarun/cases';
import type { Caller } from '@datarun/auth';
import { CurrentCaller } from '@datarun/auth-guard';
import { ApiAnswer, ApiProblems, Roles } from '@datarun/platform';
import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
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
 * Signed material links (claim checks), fetched by the recipient under its own member token: the
 * signature names the request and the recipient it was issued to, and the token must be that
 * recipient's (a link that leaked fetches nothing).
 */
@ApiTags('cases')
@ApiBearerAuth()
@Roles('utility', 'department')
@Controller('v1/materials')
export class MaterialsController {
  constructor(private readonly materials: CaseMaterials) {}

  @Get(':id')
  @ApiOperation({ operationId: 'fetchMaterial', summary: "Fetch a material's bytes through a signed link" })
  @ApiQuery({ name: 'req', description: 'the request the link was issued for' })
  @ApiQuery({ name: 'to', description: 'the recipient member the link was issued to (the caller must be that member)' })
  @ApiQuery({ name: 'exp', description: 'expiry, Unix seconds' })
  @ApiQuery({ name: 'sig', description: 'HMAC-SHA256 over the above and the material id' })
  @ApiAnswer(
    200,
    "The material's bytes, in the media type it was uploaded with (checked by its magic numbers at upload), as an attachment (content-disposition) with x-content-type-options nosniff; header x-content-sha256 carries the hash the recipient must check",
    MATERIAL_BYTES,
    MATERIAL_MEDIA_TYPES,
  )
  @ApiProblems(
    [403, 'LINK_INVALID (altered, or issued to another member), LINK_EXPIRED, ROLE_FORBIDDEN (utilities and departments only)'],
    [404, 'MATERIAL_NOT_FOUND'],
    [503, 'AUDIT_UNAVAILABLE: the fetch could not be audited, so no bytes'],
  )
  async fetch(
    @CurrentCaller() caller: Caller,
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Buffer> {
    const material = await this.materials.fetch(caller, id, query);
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
