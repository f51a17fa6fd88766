// The answer of GET /v1/platform/jwks, as a JSON Schema: published in the OpenAPI document and
// checked against real answers by the e2e tests.
import { closedObject, STRING } from '@datarun/platform';

const PLATFORM_JWK = closedObject(
  {
    kty: { const: 'EC' },
    crv: { const: 'P-256' },
    x: STRING,
    y: STRING,
    kid: STRING,
    alg: { const: 'ES256' },
    use: { const: 'sig' },
  },
  {},
  { title: 'PlatformJwk', description: 'An EC P-256 public key (RFC 7517); never a private member' },
);

export const PLATFORM_JWKS = closedObject({ keys: { type: 'array', minItems: 1, items: PLATFORM_JWK } }, {}, { title: 'PlatformJwks' });
