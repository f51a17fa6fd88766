import { z } from 'zod';
import { defineSection } from '../section.js';
import { baseUrl, filePath } from '../values.js';

export interface BridgeConfig {
  /** The utility a bridge process serves (one process per kind). */
  readonly utilityKind: string;
  /** The utility's own system a bridge applies transfers to (the sandbox's simulation by default). */
  readonly utilitySystemUrl: string;
  /** A bridge commits its offsets every this many requests or this often (only for work already in its inbox). */
  readonly bridgeCommit: { readonly messages: number; readonly ms: number };
  /** The utility's member, whose registered key signs the bridge's statuses and dead letters. */
  readonly utilityMember: { readonly id: string; readonly keyId: string; readonly privateKey: string };
}

/** The demo city's member of a utility kind (`npm start` seeds it and makes its development key), which production refuses. */
export function demoUtilityMember(kind: string): string {
  return `zj.demo.${kind}`;
}

/** The sandbox's simulation of a utility's system: the development default, which production refuses. */
export function sandboxUtilitySystemUrl(sandboxPort: number, kind: string): string {
  return `http://127.0.0.1:${sandboxPort}/v1/utilities/${kind}`;
}

const variables = z.object({
  UTILITY_KIND: z
    .string()
    .regex(/^[a-z][a-z0-9-]{1,31}$/, 'a utility kind such as water, electricity or gas')
    .default('water')
    .describe(
      'The utility a bridge process serves: it consumes `datarun.utility.<kind>.transfer-requested.v1` and `…discount-requested.v1`. One bridge process per kind.',
    ),
  UTILITY_SYSTEM_URL: z
    .string()
    .url()
    .optional()
    .describe(
      "The utility's own system a bridge applies requests to. The default is the sandbox's simulation of that utility, which production refuses: the utility's system.",
    ),
  BRIDGE_COMMIT_EVERY: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(20)
    .describe('A bridge commits its consumer offsets every this many requests (only for requests already recorded in its inbox).'),
  BRIDGE_COMMIT_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(1000).describe('…or at least this often, in milliseconds.'),
  UTILITY_MEMBER_ID: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,127}$/, 'a member id')
    .optional()
    .describe(
      "The utility's member id: the bridge's statuses go out with this `ce_source`, signed with the member's key, and the relay applies them only when this member is the request's recipient (UTILITY_RECIPIENTS). The default is the demo city's member of UTILITY_KIND, which production refuses.",
    ),
  UTILITY_MEMBER_KEY: filePath
    .optional()
    .describe(
      "File with the utility member's private key (PEM, EC P-256 or RSA ≥ 2048), whose public half is registered with the member: it signs every status (`datarun-signature`) and dead letter the bridge publishes. Production refuses a missing file or one under the development folder; development and test run without it (their statuses are then unsigned, and dead-lettered by the relay). Production: the utility's key from its secret store.",
    ),
  UTILITY_MEMBER_KEY_ID: z
    .string()
    .min(1)
    .max(128)
    .optional()
    .describe("The key id (`kid`) under which UTILITY_MEMBER_KEY's public half is registered with the member; the development keys use the member id."),
});

export const BRIDGE_SECTION = defineSection({
  name: 'bridge',
  owner: '@datarun/transfers (the reference utility bridge)',
  variables,
  read: (v, { ports, localDir }): BridgeConfig => {
    const member = v.UTILITY_MEMBER_ID ?? demoUtilityMember(v.UTILITY_KIND);
    return {
      utilityKind: v.UTILITY_KIND,
      utilitySystemUrl: baseUrl(v.UTILITY_SYSTEM_URL ?? sandboxUtilitySystemUrl(ports.sandbox, v.UTILITY_KIND)),
      bridgeCommit: { messages: v.BRIDGE_COMMIT_EVERY, ms: v.BRIDGE_COMMIT_INTERVAL_MS },
      // The development key pair of a demo member is `<localDir>/keys/<member id>.key.pem`, kid the member id.
      utilityMember: { id: member, keyId: v.UTILITY_MEMBER_KEY_ID ?? member, privateKey: v.UTILITY_MEMBER_KEY ?? `${localDir}/keys/${member}.key.pem` },
    };
  },
  derived: {
    UTILITY_SYSTEM_URL: { from: 'SANDBOX_PORT and UTILITY_KIND', value: (c) => c.utilitySystemUrl },
    UTILITY_MEMBER_ID: { from: 'UTILITY_KIND', value: (c) => c.utilityMember.id },
    UTILITY_MEMBER_KEY: { from: 'DATARUN_LOCAL_DIR and UTILITY_MEMBER_ID', value: (c) => c.utilityMember.privateKey },
    UTILITY_MEMBER_KEY_ID: { from: 'UTILITY_MEMBER_ID', value: (c) => c.utilityMember.keyId },
  },
});
