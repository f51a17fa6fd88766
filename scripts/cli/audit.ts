// `datarun audit verify`: the audit log checked with only the database (DATABASE_URL) or only the
// audit API, and the audit public key. `datarun audit archive`: ended months out of the database.
import { createPublicKey, KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { jwksToKeyObjects, publicKeyFileToJwks } from '@datarun/auth';
import {
  archiveFiles,
  archiveMonth,
  expiredMonths,
  loadAuditKeys,
  readCheckpointFile,
  type SignedCheckpoint,
  type TrustedCheckpointKeys,
  verifyAuditLog,
  verifyCheckpointBy,
  type VerifyReport,
} from '@datarun/audit';
import { DatarunProblem } from '@datarun/client';
import { requireSupportedNode } from '@datarun/config';
import { dataSourceOptions, describeDatabase } from '@datarun/db';
import { DataSource } from 'typeorm';
import { appUrl, appUrlHelp, appUrlOption, clientFor, reaching } from './api.js';
import { type CliContext, type Command, EXIT, helpText, parseOptions, UsageError, wholeNumber } from './command.js';
import { MEMBER_KEY_HELP, MEMBER_KEY_OPTIONS } from './credentials.js';

const VERIFY_EXIT_CODES =
  'exit codes: 0 the log is intact; 1 it is not (the report says where), or it could not be checked (one line on stderr); 2 usage error';

export const auditVerify: Command = {
  name: 'audit verify',
  help: helpText(
    [
      'datarun audit verify [--public-key <file>] [--from <seq>] [--to <seq>] [--checkpoints <ndjson>] [--archive-dir <dir>] [--workers <n>]',
      'datarun audit verify --audit <url> [--public-key <file>] [--from <seq>] [--to <seq>] [--member <id> --key <file>]',
    ],
    [
      'Recomputes the audit log and prints the report as one line of JSON on stdout:',
      '{ok, checked, firstBadSeq?, reason?, lastSeq, checkpointsVerified, ...}.',
      'From the database (DATABASE_URL, read-only), it trusts nothing but the public key: every record,',
      'every checkpoint in the table, the checkpoint file and the archives are checked here.',
      "With --audit, the audit app recomputes (GET /v1/audit/verify, an auditor's or admin's key) and only",
      'the latest signed checkpoint is checked here, against --public-key (never the key the server sends).',
    ].join('\n'),
    [
      [
        '--public-key <file>',
        'the audit public keys: a JWKS (each checkpoint checked with the key of its kid, retired keys included) or one PEM key for every checkpoint; default DATARUN_AUDIT_PUBLIC_KEY',
      ],
      ['--from <seq>', 'first sequence number; default 1 (the whole log, with Merkle roots)'],
      ['--to <seq>', 'last sequence number; default the head'],
      ['--checkpoints <ndjson>', 'checkpoints kept outside the database; default DATARUN_AUDIT_CHECKPOINT_FILE'],
      ['--archive-dir <dir>', 'archived months; default DATARUN_AUDIT_ARCHIVE_DIR'],
      ['--workers <n>', 'worker threads; 0 verifies in this thread; default one per core from 250,000 records'],
      appUrlHelp('audit'),
      ...MEMBER_KEY_HELP.map(([flag, text]) => [flag, `with --audit: ${text}`] as const),
    ],
    VERIFY_EXIT_CODES,
  ),
  async run(args, cli) {
    requireSupportedNode('audit verify');
    const { values } = parseOptions(args, {
      'public-key': { type: 'string' },
      checkpoints: { type: 'string' },
      'archive-dir': { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      workers: { type: 'string' },
      audit: appUrlOption,
      ...MEMBER_KEY_OPTIONS,
    });
    const range = { from: wholeNumber('from', values.from, 1), to: wholeNumber('to', values.to, 1) };
    const workers = wholeNumber('workers', values.workers);
    const viaApi = values.audit !== undefined;
    const misplaced = viaApi
      ? (['checkpoints', 'archive-dir', 'workers'] as const).filter((flag) => values[flag] !== undefined)
      : (['member', 'key', 'kid', 'sub'] as const).filter((flag) => values[flag] !== undefined);
    if (misplaced.length > 0) throw new UsageError(`--${misplaced[0]} ${viaApi ? 'is for the database, not with --audit' : 'goes with --audit <url>'}`);

    const trustedKey = values['public-key'] ? publicKeysOf(values['public-key']) : loadAuditKeys(cli.config()).trusted;
    if (!(trustedKey instanceof KeyObject) && trustedKey.size === 0)
      throw new Error('no audit public key: pass --public-key <file> or set DATARUN_AUDIT_PUBLIC_KEY');
    const report = viaApi
      ? await verifyThroughApi(appUrl(cli, 'audit', values.audit), values, trustedKey, range)
      : await verifyDatabase(cli, trustedKey, { ...range, workers, checkpoints: values.checkpoints, archiveDir: values['archive-dir'] });
    cli.out(JSON.stringify(report));
    return report.ok ? EXIT.ok : EXIT.failure;
  },
};

/** A JWK or JWKS file: its keys by kid; a PEM: that one key for every checkpoint, whatever its kid. */
function publicKeysOf(file: string): TrustedCheckpointKeys {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return text.trim().startsWith('{') ? jwksToKeyObjects(publicKeyFileToJwks(text, 'audit')) : createPublicKey(text);
  } catch {
    throw new Error(`${file} is not a public key (PEM) nor a JWK or JWKS of public keys`);
  }
}

async function verifyDatabase(
  cli: CliContext,
  trustedKey: TrustedCheckpointKeys,
  o: { from?: number; to?: number; workers?: number; checkpoints?: string; archiveDir?: string },
): Promise<VerifyReport & { seconds: number; recordsPerSecond: number }> {
  const config = cli.config();
  const dataSource = await new DataSource(dataSourceOptions(config.database, 'app')).initialize().catch((error: Error) => {
    throw new Error(`cannot connect to ${describeDatabase(config.database.url)}: ${error.message}`);
  });
  try {
    const started = Date.now();
    const report = await verifyAuditLog(dataSource, {
      trustedKey,
      externalCheckpoints: readCheckpointFile(o.checkpoints ?? config.audit.checkpointFile),
      archives: archiveFiles(o.archiveDir ?? config.audit.archiveDir),
      from: o.from,
      to: o.to,
      workers: o.workers,
    });
    const seconds = (Date.now() - started) / 1000;
    return { ...report, seconds, recordsPerSecond: Math.round(report.checked / Math.max(seconds, 0.001)) };
  } finally {
    await dataSource.destroy();
  }
}

/** The audit app's own report, and the latest checkpoint's signature checked here against the trusted key. */
async function verifyThroughApi(
  url: string,
  credentials: { member?: string; key?: string; kid?: string; sub?: string },
  trustedKey: TrustedCheckpointKeys,
  range: { from?: number; to?: number },
): Promise<VerifyReport & { latestCheckpoint: { seq: number; signedAt: string; kid: string; signatureValid: boolean } | null }> {
  const { audit } = clientFor('audit', url, credentials);
  const query = { from: range.from?.toString(), to: range.to?.toString() };
  const report = (await reaching('audit', url, audit.GET('/v1/audit/verify', { params: { query } }))) as VerifyReport;
  const checkpoint = (await reaching('audit', url, audit.GET('/v1/audit/checkpoints/latest')).catch((error: unknown) => {
    // No checkpoint signed yet: there is nothing to check against the key, which is no failure.
    if (error instanceof DatarunProblem && error.status === 404) return null;
    throw error;
  })) as SignedCheckpoint | null;
  if (checkpoint === null) return { ...report, latestCheckpoint: null };
  const signatureValid = verifyCheckpointBy(checkpoint, trustedKey);
  const { seq, signedAt, kid } = checkpoint;
  return {
    ...report,
    ok: report.ok && signatureValid,
    ...(report.ok && !signatureValid ? { reason: 'checkpoint-signature' as const } : {}),
    latestCheckpoint: { seq, signedAt, kid, signatureValid },
  };
}

export const auditArchive: Command = {
  name: 'audit archive',
  help: helpText(
    ['datarun audit archive --month <YYYY-MM> [--dir <dir>]', 'datarun audit archive --expired [--dir <dir>]'],
    [
      'Writes each ended month (oldest first) with its checkpoints into the archive directory, then drops its',
      'partition; --expired takes every month older than AUDIT_RETENTION_MONTHS. Runs as the owner (DATABASE_OWNER_URL).',
      '`datarun audit verify` keeps verifying archived months from the archive files.',
    ].join('\n'),
    [
      ['--month <YYYY-MM>', 'the month to archive'],
      ['--expired', 'every month past the retention (AUDIT_RETENTION_MONTHS; 0 keeps everything)'],
      ['--dir <dir>', 'where the archives go; default DATARUN_AUDIT_ARCHIVE_DIR'],
    ],
  ),
  async run(args, cli) {
    requireSupportedNode('audit archive');
    const { values } = parseOptions(args, { month: { type: 'string' }, expired: { type: 'boolean' }, dir: { type: 'string' } });
    if (!values.month && !values.expired) throw new UsageError('pass --month YYYY-MM or --expired');
    const config = cli.config();
    const owner = await new DataSource(dataSourceOptions(config.database, 'owner')).initialize().catch((error: Error) => {
      throw new Error(`cannot connect to ${describeDatabase(config.database.ownerUrl)}: ${error.message}`);
    });
    try {
      const months = values.month ? [values.month] : await expiredMonths(owner, config.audit.retentionMonths);
      if (months.length === 0) cli.out(`audit archive: nothing to archive (retention ${config.audit.retentionMonths || 'forever'})`);
      for (const month of months) {
        const done = await archiveMonth(owner, month, values.dir ?? config.audit.archiveDir);
        cli.out(`audit archive: ${month}: ${done.records} records (seq ${done.firstSeq}..${done.lastSeq}) → ${done.file}; partition dropped`);
      }
    } finally {
      await owner.destroy();
    }
    return EXIT.ok;
  },
};
