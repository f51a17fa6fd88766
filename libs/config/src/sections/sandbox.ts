import { z } from 'zod';
import { defineSection } from '../section.js';

/** The synthetic city (@datarun/population) the sandbox serves and `npm start` seeds: how many people, which seed. */
export interface SandboxConfig {
  readonly people: number;
  readonly seed: number;
  /**
   * The members whose webhook the sandbox serves (`POST /v1/webhooks/<member id>`), each with the
   * private key it fetches materials and answers statuses with (kid: the member id, as the
   * development keys are registered).
   */
  readonly webhookMembers: ReadonlyArray<{ readonly id: string; readonly keyId: string; readonly privateKey: string }>;
}

/** The demo city's members that receive their requests by webhook, which the sandbox serves. */
export const DEMO_WEBHOOK_MEMBERS = 'zj.demo.broadband,zj.demo.canlian';

const MEMBER_ID = '[a-z0-9][a-z0-9.-]{1,127}';

const variables = z.object({
  SANDBOX_PEOPLE: z.coerce
    .number()
    .int()
    .min(100)
    .max(1_000_000, 'a whole number of people from 100 to 1000000')
    .default(2000)
    .describe('People of the synthetic city: the records the sandbox serves and that `npm start` loads into the four replica sources.'),
  SANDBOX_SEED: z.coerce
    .number()
    .int()
    .min(-2147483648)
    .max(2147483647)
    .default(42)
    .describe('Seed of the synthetic city: the same seed and size give the same people (the README walkthrough relies on the default).'),
  SANDBOX_WEBHOOK_MEMBERS: z
    .string()
    .regex(new RegExp(`^(none|${MEMBER_ID}(,${MEMBER_ID})*)$`), 'a comma-separated list of member ids, or none')
    .default(DEMO_WEBHOOK_MEMBERS)
    .describe(
      "Members whose webhook the sandbox serves at `POST /v1/webhooks/<member id>` (register the member's recipient with that endpoint and `delivery: webhook`): it checks the platform's `datarun-signature`, fetches each material under the member's token, applies the request to that member's simulated system and answers its status to the gateway. Each member's private key is `DATARUN_LOCAL_DIR/keys/<member id>.key.pem` (the development keys `npm start` makes), key id the member id. `none` serves no webhook.",
    ),
});

export const SANDBOX_SECTION = defineSection({
  name: 'sandbox',
  owner: 'the sandbox app and the demo seed (@datarun/population)',
  variables,
  read: (v, { localDir }): { readonly sandbox: SandboxConfig } => ({
    sandbox: {
      people: v.SANDBOX_PEOPLE,
      seed: v.SANDBOX_SEED,
      webhookMembers: (v.SANDBOX_WEBHOOK_MEMBERS === 'none' ? [] : v.SANDBOX_WEBHOOK_MEMBERS.split(',')).map((id) => ({
        id,
        keyId: id,
        privateKey: `${localDir}/keys/${id}.key.pem`,
      })),
    },
  }),
});
