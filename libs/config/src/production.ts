import { isAbsolute, relative, resolve } from 'node:path';
import type { DatarunConfig } from './config.js';
import { ConfigError } from './config-error.js';
import { sandboxRecipientSystemUrl } from './sections/connector.js';
import { KEY_VARIABLES, type KeyName } from './sections/keys.js';
import { DEVELOPMENT_RATE_LIMIT } from './sections/rate-limit.js';

/** A development default an app may run on, which production must set instead. */
export type DevelopmentDefault = 'rate-limit' | 'connector-system' | 'connector-inbox';

/**
 * With NODE_ENV=production, refuses (ConfigError, one line naming the variable to set) the
 * development defaults among `uses`: the rate limit that never throttles, the sandbox standing in
 * for a connector's system, a connector's inbox that a restart forgets. Key files are checked by
 * refuseDevelopmentKey, as they are loaded.
 * Development and test run on the defaults.
 */
export function refuseDevelopmentDefaults(config: DatarunConfig, uses: readonly DevelopmentDefault[]): void {
  if (config.env !== 'production') return;
  if (uses.includes('rate-limit')) {
    if (config.rateLimit.perSecond === DEVELOPMENT_RATE_LIMIT)
      throw new ConfigError(
        'RATE_LIMIT_PER_SECOND',
        'what one member may send a second in production, not the development limit',
        String(DEVELOPMENT_RATE_LIMIT),
      );
    if (config.rateLimit.burst === DEVELOPMENT_RATE_LIMIT)
      throw new ConfigError('RATE_LIMIT_BURST', 'what one member may send at once in production, not the development limit', String(DEVELOPMENT_RATE_LIMIT));
  }
  const member = config.connector.member;
  if (uses.includes('connector-system') && member && member.systemUrl === sandboxRecipientSystemUrl(config.ports.sandbox, member)) {
    throw new ConfigError('CONNECTOR_SYSTEM_URL', "the recipient's own system in production, not the sandbox's simulation", member.systemUrl);
  }
  if (uses.includes('connector-inbox') && member?.inbox === ':memory:') {
    throw new ConfigError('CONNECTOR_INBOX', 'a file in production: an inbox in memory forgets at a restart what was applied', member.inbox);
  }
}

/**
 * With NODE_ENV=production, refuses a key file under a development folder: `DATARUN_LOCAL_DIR/keys`,
 * where an unset key variable points and `npm start` makes keys, or anywhere under `.local`, which
 * anyone with the working copy can read.
 */
export function refuseDevelopmentKey(config: DatarunConfig, name: KeyName, file: string): void {
  refuseDevelopmentKeyFile(config, KEY_VARIABLES[name], file);
}

/** refuseDevelopmentKey for a key file that is not a platform key (a member's own, such as CONNECTOR_MEMBER_KEY), named by its variable. */
export function refuseDevelopmentKeyFile(config: DatarunConfig, variable: string, file: string): void {
  if (config.env !== 'production') return;
  const folder = developmentFolderOf(config, file);
  if (folder === undefined) return;
  throw new ConfigError(variable, `a key file from your secret store in production, not one under the development folder ${folder}`, file);
}

/** Whether `file` is under a development folder (`DATARUN_LOCAL_DIR/keys`, `.local`). */
export function isDevelopmentKey(config: DatarunConfig, file: string): boolean {
  return developmentFolderOf(config, file) !== undefined;
}

function developmentFolderOf(config: DatarunConfig, file: string): string | undefined {
  return [`${config.localDir}/keys`, '.local'].find((dir) => isInside(file, dir));
}

function isInside(file: string, dir: string): boolean {
  const path = relative(resolve(dir), resolve(file));
  return path !== '' && !path.startsWith('..') && !isAbsolute(path);
}
