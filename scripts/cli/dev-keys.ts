// `datarun dev-keys [dir]`: development key pairs and demo members in a git-ignored folder
// (default .local/keys), reusing what is there.
import { relative } from 'node:path';
import { ADMIN_MEMBER_ID, DEFAULT_DEV_KEYS_DIR, ensureDevKeys } from '@datarun/auth';
import { requireSupportedNode } from '@datarun/config';
import { type Command, EXIT, helpText, parseOptions, UsageError } from './command.js';

export const devKeys: Command = {
  name: 'dev-keys',
  help: helpText(
    [`datarun dev-keys [dir]`],
    [
      `Makes, in dir (default ${DEFAULT_DEV_KEYS_DIR}, git-ignored), the key pairs npm start uses: the admin (${ADMIN_MEMBER_ID}, kid admin),`,
      'the citizen identity provider, the audit signing key, the platform key of federated calls, the subject-hash and material-link keys, and the demo members.',
      'Keys already there are kept. For development only: production keys come from the environment.',
    ].join('\n'),
  ),
  async run(args, cli) {
    requireSupportedNode('dev-keys');
    const { positionals } = parseOptions(args, {}, true);
    if (positionals.length > 1) throw new UsageError('one directory at most');
    const keys = await ensureDevKeys(positionals[0] ?? DEFAULT_DEV_KEYS_DIR);
    const shown = (path: string) => relative(process.cwd(), path) || '.';
    cli.out(`dev-keys: ${keys.created.length === 0 ? 'reused the keys' : `created ${keys.created.length} key file(s)`} in ${shown(keys.dir)}`);
    cli.out(
      `  admin ${ADMIN_MEMBER_ID} (kid admin), citizen-idp, audit, platform, subject-hash.key, ${keys.demoMembers.length} demo members (${shown(keys.demoMembersPath)})`,
    );
    cli.out(`  mint a token: npm run token -- --member ${ADMIN_MEMBER_ID} --key ${shown(keys.admin.privateKeyPath)}`);
    cli.out(`  as a citizen: npm run token -- --member citizen-idp --key ${shown(keys.citizenIdp.privateKeyPath)} --sub <ID number>`);
    return EXIT.ok;
  },
};
