// `datarun token`: a call token signed by a member's private key. stdout holds the token only, so
// `TOKEN=$(npx datarun token …)` works.
import { mintToken } from '@datarun/auth';
import { requireSupportedNode } from '@datarun/config';
import { type Command, EXIT, helpText, parseOptions, UsageError, wholeNumber } from './command.js';
import { kidOfKeyFile, readPrivateKeyFile } from './credentials.js';

/** datarun accepts tokens of at most this lifetime (docs/api.md). */
const MAX_LIFETIME_SEC = 600;

export const token: Command = {
  name: 'token',
  help: helpText(
    ['datarun token --member <id> --key <private key file> [--kid <kid>] [--sub <acting person>] [--ttl <seconds>]'],
    [
      'Prints a datarun call token (a JWT: RS256 for an RSA key, ES256 for EC P-256) and nothing else on stdout:',
      '  TOKEN=$(npx datarun token --member zj.demo.service-hall --key .local/keys/zj.demo.service-hall.key.pem --sub clerk-42)',
      '  curl -H "authorization: Bearer $TOKEN" http://127.0.0.1:3001/v1/catalog',
    ].join('\n'),
    [
      ['--member <id>', 'the member the token is for (iss)'],
      ['--key <file>', "the member's private key (PEM)"],
      ['--kid <kid>', "key id; default: the key file's name before .key.pem"],
      ['--sub <person>', "the acting person (staff number, or a citizen's ID number for --member citizen-idp); default: system"],
      ['--ttl <seconds>', `lifetime; default: 300 (datarun accepts at most ${MAX_LIFETIME_SEC})`],
    ],
  ),
  async run(args, cli) {
    requireSupportedNode('token');
    const { values } = parseOptions(args, {
      member: { type: 'string' },
      key: { type: 'string' },
      kid: { type: 'string' },
      sub: { type: 'string', default: 'system' },
      ttl: { type: 'string', default: '300' },
    });
    if (!values.member || !values.key) throw new UsageError('--member and --key are required');
    const lifetimeSec = wholeNumber('ttl', values.ttl, 1)!;
    const pem = readPrivateKeyFile(values.key);
    let minted: string;
    try {
      minted = await mintToken({ issuer: values.member, kid: values.kid ?? kidOfKeyFile(values.key), privateKey: pem, subject: values.sub, lifetimeSec });
    } catch (error) {
      throw new Error(`cannot sign with ${values.key}: ${(error as Error).message.replace(/^mintToken: /, '').split('\n')[0]}`);
    }
    if (lifetimeSec > MAX_LIFETIME_SEC) cli.err(`token: warning: a ${lifetimeSec} s lifetime is longer than the ${MAX_LIFETIME_SEC} s datarun accepts`);
    cli.out(minted);
    return EXIT.ok;
  },
};
