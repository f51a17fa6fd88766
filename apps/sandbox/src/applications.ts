import { MATERIAL_MEDIA_TYPES } from '@datarun/cases';
import { APPLIED_MATERIAL_MAX_BYTES, APPLIED_MATERIALS_MAX } from '@datarun/transfers';
import type { FastifyReply } from 'fastify';

// What every simulated recipient system takes in an application, and how it gives received bytes back.

export const text = (max: number) => ({ type: 'string', minLength: 1, maxLength: max });
/** The documents themselves, in base64, checked before anything is applied: the shape every simulated system takes. */
export const MATERIALS = {
  type: 'array',
  maxItems: APPLIED_MATERIALS_MAX,
  description: 'The documents themselves: each material the sender fetched through its link and checked, its bytes in base64',
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['type', 'sha256', 'contentType', 'size', 'content'],
    properties: {
      type: text(64),
      sha256: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of the bytes; the system refuses bytes that do not match' },
      contentType: { type: 'string', pattern: '^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$', examples: ['application/pdf'] },
      size: { type: 'integer', minimum: 0, maximum: APPLIED_MATERIAL_MAX_BYTES, description: 'bytes, before base64' },
      content: { type: 'string', maxLength: 4 * Math.ceil(APPLIED_MATERIAL_MAX_BYTES / 3), contentEncoding: 'base64', description: 'the bytes, in base64' },
    },
  },
};

/** The holder as the request carries it, with what a matter's entry adds for this recipient (idNumber, role). */
export const HOLDER = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'idNumberMasked'],
  properties: { name: text(100), idNumberMasked: text(18), idNumber: { type: 'string', pattern: '^[0-9]{17}[0-9X]$' }, role: text(32) },
};

/** The media types received bytes are served back in: the platform's material types, anything else as octet-stream. */
export const SERVED_MEDIA_TYPES: readonly string[] = [...MATERIAL_MEDIA_TYPES, 'application/octet-stream'];

/** Received bytes as an attachment, never sniffed or cached: they are whatever the sender sent. */
export function receivedBytes(reply: FastifyReply, { contentType, bytes }: { contentType: string; bytes: Buffer }): Buffer {
  void reply
    .header('content-type', SERVED_MEDIA_TYPES.includes(contentType) ? contentType : 'application/octet-stream')
    .header('x-content-type-options', 'nosniff')
    .header('content-disposition', 'attachment')
    .header('cache-control', 'no-store');
  return bytes;
}
