import { ApiAnswer, ApiProblems, BodyLimit, closedObject, COUNT, DATE_TIME, PublicRoute, STRING, UUID } from '@datarun/platform';
import { Problem } from '@datarun/problems';
import { CLOUDEVENTS_JSON, SIGNATURE_HEADER } from '@datarun/transfers';
import { Body, Controller, Get, Headers, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { WebhookRecipients, type WebhookReceipt } from './webhook-recipients.js';

/** A request's links, not its documents, travel in a delivery: far below the applications' limit. */
const DELIVERY_BODY_LIMIT = 256 * 1024;

const RECEIPTS = closedObject(
  {
    member: STRING,
    received: {
      type: 'array',
      items: closedObject(
        {
          requestId: UUID,
          request: { enum: ['transfer', 'discount', 'benefit'] },
          receivedAt: DATE_TIME,
          deliveries: { ...COUNT, description: 'Deliveries of this request id: above 1 means the relay delivered it again' },
          state: { enum: ['applying', 'completed', 'rejected', 'failed'] },
        },
        {
          reference: STRING,
          reason: STRING,
          statusAnswer: { type: 'integer', description: 'The HTTP status the gateway answered the status with' },
        },
        { title: 'WebhookReceipt' },
      ),
    },
  },
  {},
  { title: 'WebhookReceipts' },
);

/**
 * The webhooks of the members the sandbox acts for (SANDBOX_WEBHOOK_MEMBERS): where the relay
 * delivers their requests when they registered `delivery: webhook` with endpoint
 * `http://<sandbox>/v1/webhooks/<member id>`. Public like a recipient's real webhook: what
 * authenticates a delivery is datarun's signature over it, not the caller.
 */
@ApiTags('sandbox')
@PublicRoute()
@Controller('v1/webhooks/:member')
export class SandboxWebhooksController {
  constructor(private readonly webhooks: WebhookRecipients) {}

  @Post()
  @BodyLimit(DELIVERY_BODY_LIMIT)
  @HttpCode(202)
  @ApiOperation({ operationId: 'deliverWebhook', summary: 'Deliver a request to a simulated recipient’s webhook' })
  @ApiConsumes(CLOUDEVENTS_JSON)
  @ApiBody({ description: 'The request as a CloudEvent in structured mode', schema: { type: 'string', format: 'binary' } })
  @ApiHeader({
    name: SIGNATURE_HEADER,
    required: true,
    description:
      'Detached JWS over the body by the platform delivery key (kid `delivery` of `GET /v1/platform/jwks` on the gateway), bound to this endpoint and the event id',
  })
  @ApiAnswer(
    202,
    'Taken: the materials are fetched, the request applied and its status answered to the gateway in the background',
    closedObject({ requestId: UUID }, {}, { title: 'WebhookTaken' }),
  )
  @ApiProblems(
    [400, 'VALIDATION_FAILED (a signed body that is no request for this member)'],
    [401, 'TOKEN_MISSING, TOKEN_INVALID: no signature, or not datarun’s for this endpoint and body'],
    [404, 'NOT_FOUND (the sandbox acts for no such member)'],
    [413, 'PAYLOAD_TOO_LARGE'],
    [415, 'UNSUPPORTED_MEDIA_TYPE'],
    [503, 'SERVICE_UNAVAILABLE (the sandbox holds no key of the member)'],
  )
  async deliver(
    @Param('member') member: string,
    @Req() request: FastifyRequest,
    @Body() body: unknown,
    @Headers(SIGNATURE_HEADER) signature?: string,
  ): Promise<{ requestId: string }> {
    if (!Buffer.isBuffer(body)) throw new Problem('TOKEN_MISSING', `a delivery is a signed ${CLOUDEVENTS_JSON} body`);
    // The URL the relay posted to, as the signature binds it: this sandbox's address as the relay named it.
    const endpoint = `${request.protocol}://${request.headers.host ?? ''}${request.url.split('?')[0]}`;
    return this.webhooks.receive(member, endpoint, body, signature);
  }

  @Get()
  @ApiOperation({ operationId: 'listWebhookReceipts', summary: 'List what a simulated recipient’s webhook received' })
  @ApiAnswer(200, 'Each request received, most recent last: how often it was delivered, what was done and what the gateway answered', RECEIPTS)
  @ApiProblems([404, 'NOT_FOUND (the sandbox acts for no such member)'])
  received(@Param('member') member: string): { member: string; received: WebhookReceipt[] } {
    return { member, received: this.webhooks.received(member) };
  }
}
