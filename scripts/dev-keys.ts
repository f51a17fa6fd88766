// `node dist/scripts/dev-keys.js [dir]`: development key pairs and demo members in a git-ignored
// folder (default .local/keys), reusing what is there.
import { relative } from 'node:path';
import { ADMIN_MEMBER_ID, DEFAULT_DEV_KEYS_DIR, ensureDevKeys } from '@datarun/auth';
import { requireSupportedNode } from '@datarun/config';

requireSupportedNode('dev-keys');

const dir = process.argv[2] ?? DEFAULT_DEV_KEYS_DIR;
try {
  const keys = await ensureDevKeys(dir);
  const shown = (path: string) => relative(process.cwd(), path) || '.';
  console.log(
    [
      `dev-keys: ${keys.created.length === 0 ? 'reused the keys' : `created ${keys.created.length} key file(s)`} in ${shown(keys.dir)}`,
      `  admin ${ADMIN_MEMBER_ID} (kid admin), citizen-idp, audit, subject-hash.key, ${keys.demoMembers.length} demo members (${shown(keys.demoMembersPath)})`,
      `  mint a token: npm run token -- --member ${ADMIN_MEMBER_ID} --key ${shown(keys.admin.privateKeyPath)}`,
      `  as a citizen: npm run token -- --member citizen-idp --key ${shown(keys.citizenIdp.privateKeyPath)} --sub <ID number>`,
    ].join('\n'),
  );
} catch (error) {
  console.error(`dev-keys: ${(error as Error).message}`);
  process.exit(1);
}
