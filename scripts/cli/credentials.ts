// Who a command acts as: a member id, its private key file, the key id and the acting person. The
// commands that call an API default to the development administrator of `npm start`.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ADMIN_MEMBER_ID, DEFAULT_DEV_KEYS_DIR } from '@datarun/auth';
import type { MemberCredentials } from '@datarun/client';
import { UsageError } from './command.js';

export const MEMBER_KEY_OPTIONS = {
  member: { type: 'string' },
  key: { type: 'string' },
  kid: { type: 'string' },
  sub: { type: 'string' },
} as const;

export const DEV_ADMIN_KEY = join(DEFAULT_DEV_KEYS_DIR, 'admin.key.pem');

export const MEMBER_KEY_HELP: ReadonlyArray<readonly [string, string]> = [
  ['--member <id>', `the member to act as; default ${ADMIN_MEMBER_ID} (with --key)`],
  ['--key <file>', `its private key (PEM); default ${DEV_ADMIN_KEY}, the development admin key npm start makes`],
  ['--kid <kid>', "the key's id; default the key file's name before .key.pem"],
  ['--sub <person>', 'the acting person (staff number); default system'],
];

/** The key id a key file is named for: `.local/keys/admin.key.pem` is `admin`. */
export function kidOfKeyFile(file: string): string {
  return basename(file)
    .replace(/\.key\.pem$/, '')
    .replace(/\.pem$/, '');
}

export function readPrivateKeyFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** The caller of an API command: --member and --key together, or neither (the development admin). */
export function memberCredentials(values: { member?: string; key?: string; kid?: string; sub?: string }): MemberCredentials {
  if ((values.member === undefined) !== (values.key === undefined)) throw new UsageError('--member and --key go together');
  const key = values.key ?? DEV_ADMIN_KEY;
  if (values.key === undefined && !existsSync(key)) {
    throw new Error(`no development admin key at ${key} (npm start or datarun dev-keys makes it): pass --member <id> --key <file>`);
  }
  return {
    member: values.member ?? ADMIN_MEMBER_ID,
    kid: values.kid ?? kidOfKeyFile(key),
    privateKey: readPrivateKeyFile(key),
    actor: values.sub ?? 'system',
  };
}
