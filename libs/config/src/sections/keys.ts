import { z } from 'zod';
import { defineSection } from '../section.js';
import { filePath } from '../values.js';

/**
 * Paths of the platform's key files. Unset, each falls back to the development key `npm start`
 * makes under `DATARUN_LOCAL_DIR/keys` (which production refuses). `@datarun/auth`'s `loadKeys`
 * reads and checks the ones an app needs, at boot.
 */
export interface KeysConfig {
  readonly adminPublicKey: string;
  readonly citizenIdpPublicKey: string;
  readonly auditSigningKey: string;
  readonly subjectHashKey: string;
  /** The HMAC key of material links (`GET /v1/materials/{id}`); the relay signs, the gateway checks. */
  readonly materialLinkKey: string;
  /**
   * The audit keys' public halves by kid (a PEM, JWK or JWKS): every key a checkpoint may have been
   * signed with, the retired ones included. The audit app trusts these and its signing key's half.
   */
  readonly auditPublicKey: string;
  /** The gateway's key for the tokens its federated calls carry (EC P-256 private, PEM). */
  readonly platformSigningKey: string;
  /** The platform keys' public halves by kid: what departments (the sandbox) verify those tokens with. */
  readonly platformPublicKey: string;
  /** The relay's key for the webhook deliveries it signs (EC P-256 private, PEM): a key of its own, good for nothing else. */
  readonly deliverySigningKey: string;
  /** The delivery keys' public halves by kid: the gateway publishes them at GET /v1/platform/jwks, webhook recipients verify with them. */
  readonly deliveryPublicKey: string;
}

/** A platform key, by its name in `config.keys`. */
export type KeyName = keyof KeysConfig;

/** The variable that names each key file: what an error about the key tells the operator to set. */
export const KEY_VARIABLES = {
  adminPublicKey: 'DATARUN_ADMIN_PUBLIC_KEY',
  citizenIdpPublicKey: 'DATARUN_CITIZEN_IDP_PUBLIC_KEY',
  auditSigningKey: 'DATARUN_AUDIT_SIGNING_KEY',
  subjectHashKey: 'DATARUN_SUBJECT_HASH_KEY',
  materialLinkKey: 'DATARUN_MATERIAL_LINK_KEY',
  auditPublicKey: 'DATARUN_AUDIT_PUBLIC_KEY',
  platformSigningKey: 'DATARUN_PLATFORM_SIGNING_KEY',
  platformPublicKey: 'DATARUN_PLATFORM_PUBLIC_KEY',
  deliverySigningKey: 'DATARUN_DELIVERY_SIGNING_KEY',
  deliveryPublicKey: 'DATARUN_DELIVERY_PUBLIC_KEY',
} as const satisfies Record<KeyName, string>;

const variables = z.object({
  DATARUN_ADMIN_PUBLIC_KEY: filePath
    .optional()
    .describe(
      "File with the public key of the platform administrator `datarun.admin` (PEM, a JWK or a JWKS; a PEM gets key id `admin`). The registry loads it at boot. Production: the administrators' public key; the private half never reaches datarun.",
    ),
  DATARUN_CITIZEN_IDP_PUBLIC_KEY: filePath
    .optional()
    .describe(
      "File with the public key of the citizen identity provider (PEM, JWK or JWKS). Tokens with `iss` `citizen-idp` are verified with it and get the role `citizen`; without the file, citizen tokens are refused. Production: the provider's public key.",
    ),
  DATARUN_AUDIT_SIGNING_KEY: filePath
    .optional()
    .describe(
      'File with the EC P-256 private key (PEM) the audit app signs checkpoints with, under the key id DATARUN_AUDIT_KEY_ID. Only the audit app reads it. Production: a platform key readable by the audit app only; see docs/operations.md for its rotation.',
    ),
  DATARUN_SUBJECT_HASH_KEY: filePath
    .optional()
    .describe(
      "File with the HMAC key (base64url, at least 16 bytes) of the audit log's subject pseudonyms. Every app that audits refuses to start without it. Production: a secret outside the database, identical in every app; changing it makes earlier pseudonyms unsearchable.",
    ),
  DATARUN_AUDIT_PUBLIC_KEY: filePath
    .optional()
    .describe(
      "File with the audit keys' public halves: a PEM (key id DATARUN_AUDIT_KEY_ID), a JWK or a JWKS of EC P-256 keys with their key ids. Each checkpoint is verified with the key of its kid, so after a rotation it lists the retired keys as well as the current one. The audit app trusts these and the public half of its signing key; `datarun audit verify` reads only this file (`npm start` makes the development one).",
    ),
  DATARUN_MATERIAL_LINK_KEY: filePath
    .optional()
    .describe(
      'File with the HMAC key (base64url, at least 32 bytes) of material links: the relay signs them, the gateway checks them. Production: a secret shared by relay and gateway only.',
    ),
  DATARUN_PLATFORM_SIGNING_KEY: filePath
    .optional()
    .describe(
      "File with the EC P-256 private key (PEM) the gateway signs each federated call with, under the key id DATARUN_PLATFORM_KEY_ID: a token of a minute naming the department's source as audience, the purpose, the case, the acting person and the correlation id, so that a department can refuse anyone else. Only the gateway reads it, and refuses to start without it. Production: a platform key from your secret store; its public half is served at `GET /v1/platform/jwks`.",
    ),
  DATARUN_PLATFORM_PUBLIC_KEY: filePath
    .optional()
    .describe(
      "File with the platform keys' public halves (a PEM with key id DATARUN_PLATFORM_KEY_ID, a JWK or a JWKS): the gateway publishes them beside its signing key's half at `GET /v1/platform/jwks` (list a retired key here during a rotation), and the sandbox's departments verify federated calls with them.",
    ),
  DATARUN_DELIVERY_SIGNING_KEY: filePath
    .optional()
    .describe(
      "File with the EC P-256 private key (PEM) the relay signs each webhook delivery with (`datarun-signature`, key id `delivery`), bound to the recipient's endpoint and the event: the platform delivery key. Only the relay reads it, and refuses to start without it; it is a key of its own, so a relay broken into cannot mint the gateway's federated-call tokens. Production: a key from your secret store.",
    ),
  DATARUN_DELIVERY_PUBLIC_KEY: filePath
    .optional()
    .describe(
      "File with the delivery keys' public halves (a PEM with key id `delivery`, a JWK or a JWKS, the retired ones too during a rotation): the gateway publishes them at `GET /v1/platform/jwks` beside the platform keys, and webhook recipients (the sandbox's) verify deliveries with them.",
    ),
});

export const KEYS_SECTION = defineSection({
  name: 'keys',
  owner: '@datarun/auth (loadKeys)',
  variables,
  // Unset keys fall back to the development pairs `npm start` makes in .local/keys (docs/api.md).
  read: (v, { localDir }): { readonly keys: KeysConfig } => ({
    keys: {
      adminPublicKey: v.DATARUN_ADMIN_PUBLIC_KEY ?? `${localDir}/keys/admin.pub.pem`,
      citizenIdpPublicKey: v.DATARUN_CITIZEN_IDP_PUBLIC_KEY ?? `${localDir}/keys/citizen-idp.pub.pem`,
      auditSigningKey: v.DATARUN_AUDIT_SIGNING_KEY ?? `${localDir}/keys/audit.key.pem`,
      subjectHashKey: v.DATARUN_SUBJECT_HASH_KEY ?? `${localDir}/keys/subject-hash.key`,
      materialLinkKey: v.DATARUN_MATERIAL_LINK_KEY ?? `${localDir}/keys/material-link.key`,
      auditPublicKey: v.DATARUN_AUDIT_PUBLIC_KEY ?? `${localDir}/keys/audit.pub.pem`,
      platformSigningKey: v.DATARUN_PLATFORM_SIGNING_KEY ?? `${localDir}/keys/platform.key.pem`,
      platformPublicKey: v.DATARUN_PLATFORM_PUBLIC_KEY ?? `${localDir}/keys/platform.pub.pem`,
      deliverySigningKey: v.DATARUN_DELIVERY_SIGNING_KEY ?? `${localDir}/keys/delivery.key.pem`,
      deliveryPublicKey: v.DATARUN_DELIVERY_PUBLIC_KEY ?? `${localDir}/keys/delivery.pub.pem`,
    },
  }),
  derived: {
    DATARUN_ADMIN_PUBLIC_KEY: { from: 'DATARUN_LOCAL_DIR', value: (c) => c.keys.adminPublicKey },
    DATARUN_CITIZEN_IDP_PUBLIC_KEY: { from: 'DATARUN_LOCAL_DIR', value: (c) => c.keys.citizenIdpPublicKey },
    DATARUN_AUDIT_SIGNING_KEY: { from: 'DATARUN_LOCAL_DIR', value: (c) => c.keys.auditSigningKey },
    DATARUN_SUBJECT_HASH_KEY: { from: 'DATARUN_LOCAL_DIR', value: (c) => c.keys.subjectHashKey },
    DATARUN_AUDIT_PUBLIC_KEY: { from: 'DATARUN_LOCAL_DIR', value: (c) => c.keys.auditPublicKey },
    DATARUN_MATERIAL_LINK_KEY: { from: 'DATARUN_LOCAL_DIR', value: (c) => c.keys.materialLinkKey },
    DATARUN_PLATFORM_SIGNING_KEY: { from: 'DATARUN_LOCAL_DIR', value: (c) => c.keys.platformSigningKey },
    DATARUN_PLATFORM_PUBLIC_KEY: { from: 'DATARUN_LOCAL_DIR', value: (c) => c.keys.platformPublicKey },
    DATARUN_DELIVERY_SIGNING_KEY: { from: 'DATARUN_LOCAL_DIR', value: (c) => c.keys.deliverySigningKey },
    DATARUN_DELIVERY_PUBLIC_KEY: { from: 'DATARUN_LOCAL_DIR', value: (c) => c.keys.deliveryPublicKey },
  },
});
