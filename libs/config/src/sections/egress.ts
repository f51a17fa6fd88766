import { z } from 'zod';
import { defineSection } from '../section.js';

/** Where datarun may call out to, and the identity its calls carry (@datarun/egress, @datarun/auth). */
export interface EgressConfig {
  /** EGRESS_ALLOWLIST's entries (`host:port`, `cidr:port`, port `*` for any); empty allows nothing. */
  readonly allowlist: readonly string[];
  /** The key id (`kid`) of DATARUN_PLATFORM_SIGNING_KEY: the tokens of federated calls carry it. */
  readonly platformKeyId: string;
}

// The syntax only; @datarun/egress parses each entry and refuses what is not an address, block or name.
const ENTRY = /^(?:\[[0-9A-Fa-f:.]+(?:\/\d{1,3})?\]|\d{1,3}(?:\.\d{1,3}){3}(?:\/\d{1,2})?|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(?:\d{1,5}|\*)$/;

const variables = z.object({
  EGRESS_ALLOWLIST: z
    .string()
    .transform((v) => (v.trim() === 'none' ? [] : v.split(',').map((e) => e.trim())))
    .refine((entries) => entries.every((e) => ENTRY.test(e)), 'a comma-separated list of host:port, address:port or CIDR:port (port a number or *), or none')
    .optional()
    .describe(
      "Where datarun may call out: the gateway to federated sources, the relay to recipients' webhooks. `host:port`, `10.20.0.0/16:443`, `[fd00::/8]:8443`, a port may be `*`; `none` allows nothing. A source endpoint or webhook registered outside it is refused (400 `ENDPOINT_NOT_ALLOWED`), and every call and delivery is checked again when it connects, after DNS: a listed name that resolves to a loopback, private or link-local address is refused unless an address entry allows that address (a lookup then answers 502 `SOURCE_UNAVAILABLE`, a webhook delivery is dead-lettered uncalled). Read by the gateway, the registry and the relay. Unset: the sandbox only (`127.0.0.1:SANDBOX_PORT`) in development and test, nothing in production. Production: the departments' and webhook recipients' hosts or networks.",
    ),
  DATARUN_PLATFORM_KEY_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'a key id of 1 to 64 characters A-Z a-z 0-9 . _ -')
    .default('platform')
    .describe(
      'Key id (`kid`) of DATARUN_PLATFORM_SIGNING_KEY: the tokens the gateway signs for federated calls carry it, and `GET /v1/platform/jwks` publishes the key under it. Give a new signing key a new id; a PEM in DATARUN_PLATFORM_PUBLIC_KEY gets this id too.',
    ),
});

export const EGRESS_SECTION = defineSection({
  name: 'egress',
  owner: '@datarun/egress (federated calls, webhooks) and the platform identity of those calls',
  variables,
  read: (v, { env, ports }): { readonly egress: EgressConfig } => ({
    egress: {
      // Production calls nobody until the operator names the departments; elsewhere, the sandbox's departments.
      allowlist: v.EGRESS_ALLOWLIST ?? (env === 'production' ? [] : [`127.0.0.1:${ports.sandbox}`]),
      platformKeyId: v.DATARUN_PLATFORM_KEY_ID,
    },
  }),
  derived: {
    EGRESS_ALLOWLIST: { from: 'NODE_ENV and SANDBOX_PORT', value: (c) => c.egress.allowlist.join(',') || 'none' },
  },
});
