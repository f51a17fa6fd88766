import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Jwks } from './jwks.js';
import { generateKeyPairFiles, type KeyPairFiles } from './key-files.js';
import type { MemberKind } from './types.js';

/** The platform administrator (docs/api.md); its development key id is `admin`. */
export const ADMIN_MEMBER_ID = 'datarun.admin';
export const DEFAULT_DEV_KEYS_DIR = '.local/keys';

/** How a demo member receives the requests matters send it (its recipient settings in the registry). */
export interface DemoReceives {
  /** `kafka`: its connector consumes its topics; `webhook`: the sandbox serves its endpoint. */
  readonly delivery: 'kafka' | 'webhook';
  /** The utility kind it receives for: a matter naming the kind means this member. */
  readonly utilityKind?: string;
  readonly requests: ReadonlyArray<'transfer' | 'discount' | 'benefit'>;
}

export interface DemoMember {
  readonly id: string;
  /** Display name, in Chinese as the service hall shows it. */
  readonly name: string;
  readonly kind: MemberKind;
  /** What the member is about: a department's data (a built-in source of that name), or a utility's kind. */
  readonly domain?: string;
  /** A recipient of the demo matters' requests (低保 notifies six units, a property transfer up to five). */
  readonly receives?: DemoReceives;
}

const UTILITY: readonly ('transfer' | 'discount')[] = ['transfer', 'discount'];

/** Synthetic members of a demo city for local runs, e2e tests and benchmarks. */
export const DEMO_MEMBERS: readonly DemoMember[] = Object.freeze([
  { id: 'zj.demo.gongan', name: '演示市公安局', kind: 'department', domain: 'household' },
  { id: 'zj.demo.minzheng', name: '演示市民政局', kind: 'department', domain: 'marriage' },
  {
    id: 'zj.demo.renshe',
    name: '演示市人力资源和社会保障局',
    kind: 'department',
    domain: 'social-security',
    receives: { delivery: 'kafka', requests: ['benefit'] },
  },
  { id: 'zj.demo.budongchan', name: '演示市不动产登记中心', kind: 'department', domain: 'property' },
  // No domain: departments that grant benefits and own no built-in source.
  { id: 'zj.demo.jiaoyu', name: '演示市教育局', kind: 'department', receives: { delivery: 'kafka', requests: ['benefit'] } },
  { id: 'zj.demo.canlian', name: '演示市残疾人联合会', kind: 'department', receives: { delivery: 'webhook', requests: ['benefit'] } },
  { id: 'zj.demo.service-hall', name: '演示市政务服务中心', kind: 'consumer' },
  { id: 'zj.demo.water', name: '演示市自来水公司', kind: 'utility', domain: 'water', receives: { delivery: 'kafka', utilityKind: 'water', requests: UTILITY } },
  {
    id: 'zj.demo.electricity',
    name: '演示市供电公司',
    kind: 'utility',
    domain: 'electricity',
    receives: { delivery: 'kafka', utilityKind: 'electricity', requests: UTILITY },
  },
  { id: 'zj.demo.gas', name: '演示市燃气公司', kind: 'utility', domain: 'gas', receives: { delivery: 'kafka', utilityKind: 'gas', requests: UTILITY } },
  {
    id: 'zj.demo.guangdian',
    name: '演示市广电网络公司',
    kind: 'utility',
    domain: 'cable',
    receives: { delivery: 'kafka', utilityKind: 'cable', requests: UTILITY },
  },
  {
    id: 'zj.demo.broadband',
    name: '演示市宽带网络公司',
    kind: 'utility',
    domain: 'broadband',
    receives: { delivery: 'webhook', utilityKind: 'broadband', requests: UTILITY },
  },
  { id: 'zj.demo.auditor', name: '演示市审计局', kind: 'auditor' },
] satisfies DemoMember[]);

/** One demo member as written to `demo-members.json`. */
export interface DemoMemberKeys {
  readonly id: string;
  readonly name: string;
  readonly kind: MemberKind;
  readonly jwks: Jwks;
  readonly privateKeyPath: string;
  readonly receives?: DemoReceives;
}

export interface DevKeys {
  readonly dir: string;
  /** Member `datarun.admin`, kid `admin`. */
  readonly admin: KeyPairFiles;
  /** The development citizen identity provider, kid `citizen-idp`. */
  readonly citizenIdp: KeyPairFiles;
  /** The audit checkpoint signing key, kid `audit`. */
  readonly audit: KeyPairFiles;
  /** The platform key the gateway signs federated calls with (and the sandbox verifies), kid `platform`. */
  readonly platform: KeyPairFiles;
  /** The platform delivery key the relay signs webhooks with (the gateway publishes its public half), kid `delivery`. */
  readonly delivery: KeyPairFiles;
  readonly subjectHashKeyPath: string;
  /** HMAC key of the material links the relay signs and the gateway checks. */
  readonly materialLinkKeyPath: string;
  readonly demoMembers: readonly DemoMemberKeys[];
  readonly demoMembersPath: string;
  /** Files this call created (empty when everything was reused). */
  readonly created: readonly string[];
}

/**
 * Ensures the development key material in `dir` (git-ignored `.local/keys` by default), reusing
 * what is there. All paths returned are absolute. Development only: these keys are not secret
 * from anyone who can read the working copy.
 */
export async function ensureDevKeys(dir: string = DEFAULT_DEV_KEYS_DIR): Promise<DevKeys> {
  const root = resolve(dir);
  await mkdir(root, { recursive: true, mode: 0o700 });
  const created: string[] = [];
  const pair = async (name: string, kid: string, type: 'ec' | 'rsa' = 'ec'): Promise<KeyPairFiles> => {
    const files = await generateKeyPairFiles(root, name, kid, type);
    if (files.created) created.push(files.privateKeyPath);
    return files;
  };

  const admin = await pair('admin', 'admin');
  const citizenIdp = await pair('citizen-idp', 'citizen-idp');
  const audit = await pair('audit', 'audit');
  const platform = await pair('platform', 'platform');
  const delivery = await pair('delivery', 'delivery');
  const subjectHashKeyPath = join(root, 'subject-hash.key');
  if (await ensureSecretKey(subjectHashKeyPath)) created.push(subjectHashKeyPath);
  const materialLinkKeyPath = join(root, 'material-link.key');
  if (await ensureSecretKey(materialLinkKeyPath)) created.push(materialLinkKeyPath);

  const demoMembers: DemoMemberKeys[] = [];
  for (const member of DEMO_MEMBERS) {
    // One RSA member so that RS256 is exercised end to end as well as ES256.
    const files = await pair(member.id, member.id, member.id === 'zj.demo.renshe' ? 'rsa' : 'ec');
    demoMembers.push({
      id: member.id,
      name: member.name,
      kind: member.kind,
      jwks: files.jwks,
      privateKeyPath: files.privateKeyPath,
      ...(member.receives ? { receives: member.receives } : {}),
    });
  }
  const demoMembersPath = join(root, 'demo-members.json');
  await writeFile(demoMembersPath, `${JSON.stringify(demoMembers, null, 2)}\n`, { mode: 0o600 });

  return { dir: root, admin, citizenIdp, audit, platform, delivery, subjectHashKeyPath, materialLinkKeyPath, demoMembers, demoMembersPath, created };
}

/** 32 random bytes, base64url, mode 0600; kept when present. Returns whether it was created. */
async function ensureSecretKey(path: string): Promise<boolean> {
  try {
    await readFile(path, 'utf8');
    return false;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await writeFile(path, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  return true;
}
