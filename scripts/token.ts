// `npm run token -- --member <id> --key <private key file>`: prints a datarun call token (stdout
// holds the token only, so `TOKEN=$(npm run -s token -- ...)` works).
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { mintToken } from '@datarun/auth';
import { requireSupportedNode } from '@datarun/config';

requireSupportedNode('token');

const USAGE = `usage: node dist/scripts/token.js --member <id> --key <private key file> [--kid <kid>] [--sub <acting person>] [--ttl <seconds>]
  --kid  key id; default: the key file's name before .key.pem
  --sub  the acting person (staff number, or a citizen's ID number for --member citizen-idp); default: system
  --ttl  lifetime in seconds; default: 300 (datarun accepts at most 600)`;

function fail(message: string): never {
  console.error(`token: ${message}`);
  process.exit(1);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      member: { type: 'string' },
      key: { type: 'string' },
      kid: { type: 'string' },
      sub: { type: 'string', default: 'system' },
      ttl: { type: 'string', default: '300' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (error) {
  console.error(USAGE);
  fail((error as Error).message);
}
if (values.help) {
  console.error(USAGE);
  process.exit(1);
}
if (!values.member || !values.key) {
  console.error(USAGE);
  fail('--member and --key are required');
}
const kid =
  values.kid ??
  basename(values.key)
    .replace(/\.key\.pem$/, '')
    .replace(/\.pem$/, '');
if (!/^\d+$/.test(values.ttl) || Number(values.ttl) <= 0) fail(`--ttl must be a positive whole number of seconds, got "${values.ttl}"`);
const lifetimeSec = Number(values.ttl);

let pem: string;
try {
  pem = readFileSync(values.key, 'utf8');
} catch (error) {
  fail(`cannot read ${values.key}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
}
try {
  const token = await mintToken({ issuer: values.member, kid, privateKey: pem, subject: values.sub, lifetimeSec });
  if (lifetimeSec > 600) console.error(`token: warning: a ${lifetimeSec} s lifetime is longer than the 600 s datarun accepts`);
  process.stdout.write(`${token}\n`);
} catch (error) {
  fail(`cannot sign with ${values.key}: ${(error as Error).message.replace(/^mintToken: /, '').split('\n')[0]}`);
}
