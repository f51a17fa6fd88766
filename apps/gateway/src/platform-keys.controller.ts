import { type Jwks, KeyRing, platformJwks } from '@datarun/auth';
import { ApiAnswer, PublicRoute } from '@datarun/platform';
import { Controller, Get, Header } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { PLATFORM_JWKS } from './platform-answers.js';

/**
 * The platform's public keys, for departments (and, later, webhook recipients) that verify the
 * tokens datarun's calls carry. Public: a department fetches them without being a member caller.
 */
@ApiTags('exchange')
@PublicRoute()
@Controller('v1/platform')
export class PlatformKeysController {
  private readonly jwks: Jwks;

  constructor(keys: KeyRing) {
    // Read once: the keys are loaded at boot and the answer never changes while the app runs.
    this.jwks = platformJwks(keys.require('platformSigningKey'), keys.get('platformPublicKey'));
  }

  @Get('jwks')
  @ApiOperation({ operationId: 'getPlatformJwks', summary: "The platform's public keys (JWKS) that verify the tokens of datarun's calls" })
  @Header('cache-control', 'public, max-age=300')
  @ApiAnswer(
    200,
    "The signing key's public half first, then any other configured platform key (a retired one during a rotation); tokens name theirs by `kid`",
    PLATFORM_JWKS,
  )
  jwksOf(): Jwks {
    return this.jwks;
  }
}
