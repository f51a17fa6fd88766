import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { publicJwkOf, type Jwks } from './jwks.js';
import { signingAlgorithmOf } from './jws-algorithm.js';

const generateKeyPairAsync = promisify(generateKeyPair);

export interface KeyPairFiles {
  readonly privateKeyPath: string;
  readonly publicKeyPath: string;
  /** The public key as the member registers it: one JWK with kid, alg and use "sig". */
  readonly jwks: Jwks;
  /** True when this call made the pair, false when it reused one already on disk. */
  readonly created: boolean;
}

/**
 * Makes `<dir>/<name>.key.pem` (PKCS#8, mode 0600) and `<dir>/<name>.pub.pem` (SPKI) unless the
 * private key is already there, in which case it is reused and the public file is (re)written
 * from it. For development and tests; production keys never come from here.
 */
export async function generateKeyPairFiles(dir: string, name: string, kid: string, type: 'ec' | 'rsa' = 'ec'): Promise<KeyPairFiles> {
  if (!/^[A-Za-z0-9._-]+$/.test(name) || name.startsWith('.')) throw new Error(`key pair name "${name}" is not a plain file name`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const privateKeyPath = join(dir, `${name}.key.pem`);
  const publicKeyPath = join(dir, `${name}.pub.pem`);

  let privateKey: KeyObject;
  let created = false;
  const existing = await readIfPresent(privateKeyPath);
  if (existing !== undefined) {
    privateKey = createPrivateKey(existing);
  } else {
    const pair = type === 'rsa' ? await generateKeyPairAsync('rsa', { modulusLength: 2048 }) : await generateKeyPairAsync('ec', { namedCurve: 'P-256' });
    privateKey = pair.privateKey;
    // 'wx': never overwrite a key another process wrote meanwhile.
    await writeFile(privateKeyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    created = true;
  }
  const alg = signingAlgorithmOf(privateKey);
  const publicKey = createPublicKey(privateKey);
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  if ((await readIfPresent(publicKeyPath)) !== publicPem) await writeFile(publicKeyPath, publicPem, { mode: 0o644 });

  return { privateKeyPath, publicKeyPath, jwks: { keys: [{ ...publicJwkOf(publicKey, kid), alg, use: 'sig' }] }, created };
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
