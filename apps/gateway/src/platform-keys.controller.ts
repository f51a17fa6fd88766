import { type Jwks, KeyRing, platformJwks } from '@datarun/auth';
import { ApiAnswer, PublicRoute } from '@datarun/platform';
import { Controller, Get, Header } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { PLATFORM_JWKS } from './platform-answers.js';

/**
 * The platform's public keys, for departments that verify the tokens datarun's calls carry and
 * webhook recipients that verify the deliveries the relay signs (kid `delivery`). Public: a department fetches them without being a member caller.
 */
@ApiTags('exchange')
@PublicRoute()
@Controller('v1/platform')
export class PlatformKeysController {
  private readonly jwks: Jwks;

  constructor(keys: KeyRing) {
    // Read once: the keys are loaded at boot and the answer never changes while the app runs.
    // The platform keys (federated calls), then the delivery keys (the relay's webhook signatures): one
    // JWKS, told apart by kid, so a kid may name one key only (else one would silently shadow the other).
    const signing = keys.require('platformSigningKey');
    const platform = new Map([[signing.kid, signing.privateKey], ...(keys.get('platformPublicKey') ?? [])]);
    const delivery = keys.require('deliveryPublicKey');
    const shared = [...delivery.keys()].filter((kid) => platform.has(kid));
    if (shared.length > 0)
      throw new Error(`DATARUN_DELIVERY_KEY_ID: key id ${shared.join(', ')} is also a platform key's (DATARUN_PLATFORM_KEY_ID); give the delivery key its own`);
    this.jwks = platformJwks(signing, new Map([...(keys.get('platformPublicKey') ?? []), ...delivery]));
  }

  @Get('jwks')
  @ApiOperation({
    operationId: 'getPlatformJwks',
    summary: "The platform's public keys (JWKS): those of the tokens of datarun's calls, and the delivery key (kid `delivery`) of its webhooks",
  })
  @Header('cache-control', 'public, max-age=300')
  @ApiAnswer(
    200,
    "The signing key's public half first, then any other configured platform key (a retired one during a rotation), then the delivery key `delivery` that verifies webhook deliveries only; tokens and deliveries name theirs by `kid`",
    PLATFORM_JWKS,
  )
  jwksOf(): Jwks {
    return this.jwks;
  }
}
