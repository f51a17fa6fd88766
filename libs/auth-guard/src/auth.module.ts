import { existsSync, readFileSync } from 'node:fs';
import type { DatarunConfig } from '@datarun/config';
import { type DynamicModule, Logger, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { CITIZEN_IDP_ISSUER, jwksToKeyObjects, KeyDirectory, publicKeyFileToJwks, TokenVerifier } from '@datarun/auth';
import { AuthGuard } from './auth.guard.js';
import { RateLimiter } from './rate-limiter.js';

@Module({})
export class AuthModule {
  /**
   * Token verification for an app: members' keys from the `KeyDirectory` the app provides (the
   * registry module's member-key directory), citizens' from the IdP key.
   */
  static forRoot(config: DatarunConfig): DynamicModule {
    return {
      module: AuthModule,
      global: true,
      providers: [
        {
          provide: TokenVerifier,
          inject: [KeyDirectory],
          useFactory: (directory: KeyDirectory) => {
            const idpFile = config.keys.citizenIdpPublicKey;
            let citizenIdp;
            if (idpFile && existsSync(idpFile)) {
              citizenIdp = { issuer: CITIZEN_IDP_ISSUER, keys: jwksToKeyObjects(publicKeyFileToJwks(readFileSync(idpFile, 'utf8'), CITIZEN_IDP_ISSUER)) };
            } else {
              new Logger('Auth').warn(`no citizen identity provider key (${idpFile ?? 'DATARUN_CITIZEN_IDP_PUBLIC_KEY unset'}): citizen tokens are refused`);
            }
            return new TokenVerifier(directory, { citizenIdp });
          },
        },
        { provide: RateLimiter, useValue: new RateLimiter(config.rateLimit.perSecond, config.rateLimit.burst) },
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
      exports: [TokenVerifier],
    };
  }
}
