import { AuditLog } from '@datarun/audit';
import { type DatarunConfig, refuseDevelopmentDefaults } from '@datarun/config';
import { type DynamicModule, Logger, Module } from '@nestjs/common';
import { CITIZEN_IDP_ISSUER, jwksToKeyObjects, KeyDirectory, KeyRing, TokenVerifier } from '@datarun/auth';
import { EdgeAuthentication } from '@datarun/platform';
import { CallerAuthentication } from './caller-authentication.js';
import { RateLimiter } from './rate-limiter.js';

@Module({})
export class AuthModule {
  /**
   * Authentication at the edge of an app (createApp runs it before the body is read): members'
   * keys from the `KeyDirectory` the app provides (the registry module's member-key directory),
   * citizens' from the IdP key in the app's KeyRing. Production must set a rate limit a member can
   * meet: the development one never throttles.
   */
  static forRoot(config: DatarunConfig): DynamicModule {
    refuseDevelopmentDefaults(config, ['rate-limit']);
    const { rateLimit } = config;
    return {
      module: AuthModule,
      global: true,
      providers: [
        {
          provide: TokenVerifier,
          inject: [KeyDirectory, KeyRing],
          useFactory: (directory: KeyDirectory, keys: KeyRing) => {
            const idp = keys.get('citizenIdpPublicKey');
            if (!idp) new Logger('Auth').warn(`no citizen identity provider key (${config.keys.citizenIdpPublicKey}): citizen tokens are refused`);
            return new TokenVerifier(directory, { citizenIdp: idp && { issuer: CITIZEN_IDP_ISSUER, keys: jwksToKeyObjects(idp) } });
          },
        },
        {
          provide: EdgeAuthentication,
          // The audit log, where the app has one, records refusals by role.
          inject: [TokenVerifier, { token: AuditLog, optional: true }],
          useFactory: (verifier: TokenVerifier, audit?: AuditLog) =>
            new CallerAuthentication(
              verifier,
              new RateLimiter(rateLimit.perSecond, rateLimit.burst),
              new RateLimiter(rateLimit.perAddress.perSecond, rateLimit.perAddress.burst),
              audit ?? undefined,
            ),
        },
      ],
      exports: [TokenVerifier, EdgeAuthentication],
    };
  }
}
