// `datarun dlq list|replay`: the relay's dead letters for operators at a shell, straight on the
// database (DATABASE_URL) and the broker (KAFKA_BROKERS), with the same code as
// `GET /v1/ops/dead-letters` and its replay. A replay is audited as member datarun.admin, actor
// `cli:<os user>`.
import { userInfo } from 'node:os';
import { AuditLog } from '@datarun/audit';
import { ADMIN_MEMBER_ID, type Caller } from '@datarun/auth';
import { requireSupportedNode } from '@datarun/config';
import { dataSourceOptions, describeDatabase } from '@datarun/db';
import { KafkaMessaging } from '@datarun/messaging';
import { type DeadLetterView, DeadLettersService } from '@datarun/transfers';
import { DataSource } from 'typeorm';
import { type CliContext, type Command, EXIT, helpText, parseOptions, UsageError, wholeNumber } from './command.js';

/** The operator at this shell, as the audit log names them. */
export function cliCaller(): Caller {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    // A container user without a passwd entry still has a uid.
    user = `uid-${process.getuid?.() ?? 'unknown'}`;
  }
  return { memberId: ADMIN_MEMBER_ID, role: 'admin', actor: `cli:${user}` };
}

async function withDeadLetters<T>(cli: CliContext, use: (deadLetters: DeadLettersService) => Promise<T>): Promise<T> {
  const config = cli.config();
  const dataSource = new DataSource(dataSourceOptions(config.database, 'app'));
  const messaging = new KafkaMessaging(config.kafka);
  try {
    await dataSource.initialize().catch((error: Error) => {
      throw new Error(`cannot connect to ${describeDatabase(config.database.url)}: ${error.message}`);
    });
    return await use(new DeadLettersService(dataSource, messaging, new AuditLog(dataSource)));
  } finally {
    await messaging.close();
    if (dataSource.isInitialized) await dataSource.destroy();
  }
}

function line(d: DeadLetterView): string {
  // A planted dead letter (no valid seal) says so before its reason: its topic and reason are only its own claims.
  const planted = d.planted ? ['PLANTED'] : [];
  return [d.at, d.id, d.topic || '(no topic)', `key=${d.key ?? '-'}`, `by=${d.by}`, `replays=${d.replays}`, ...planted, d.reason.replace(/\s+/g, ' ')].join(
    '  ',
  );
}

const DATABASE_AND_BROKER = 'Works on the database (DATABASE_URL) and the broker (KAFKA_BROKERS) directly, as the relay does.';

export const dlqList: Command = {
  name: 'dlq list',
  help: helpText(
    ['datarun dlq list [--topic <original topic>] [--limit <1..1000>] [--cursor <next>] [--json]'],
    [
      "Lists the relay's dead letters: time, id, original topic, key, who dead-lettered it, replays, PLANTED for one",
      'that neither datarun nor its recipient sealed (never replayed), reason;',
      'a last line `(more: --cursor …)` when there are more. --json prints the page {items, next} as one line.',
      DATABASE_AND_BROKER,
    ].join('\n'),
    [
      ['--topic <topic>', 'only dead letters of this original topic'],
      ['--limit <n>', 'at most this many (1..1000); default 100'],
      ['--cursor <next>', 'the page after the one that printed it'],
      ['--json', 'the page as JSON'],
    ],
  ),
  async run(args, cli) {
    requireSupportedNode('dlq list');
    const { values } = parseOptions(args, {
      topic: { type: 'string' },
      limit: { type: 'string' },
      cursor: { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    const limit = wholeNumber('limit', values.limit, 1);
    const page = await withDeadLetters(cli, (deadLetters) => deadLetters.list(cliCaller(), { topic: values.topic, limit, cursor: values.cursor }));
    if (values.json) {
      cli.out(JSON.stringify(page));
    } else {
      for (const item of page.items) cli.out(line(item));
      if (page.next) cli.out(`(more: --cursor ${page.next})`);
    }
    return EXIT.ok;
  },
};

export const dlqReplay: Command = {
  name: 'dlq replay',
  help: helpText(
    ['datarun dlq replay <dead letter id> [--json]'],
    [
      'Publishes the dead letter again to its original topic with its original key and headers, and audits',
      `the replay as ${ADMIN_MEMBER_ID}, actor cli:<your user>. ${DATABASE_AND_BROKER}`,
    ].join('\n'),
    [['--json', 'the replayed dead letter as JSON']],
  ),
  async run(args, cli) {
    requireSupportedNode('dlq replay');
    const { values, positionals } = parseOptions(args, { json: { type: 'boolean', default: false } }, true);
    if (positionals.length !== 1)
      throw new UsageError(positionals.length === 0 ? 'which dead letter? pass its id' : `one id at a time, got ${positionals.length}`);
    const replayed = await withDeadLetters(cli, (deadLetters) => deadLetters.replay(cliCaller(), positionals[0]));
    cli.out(values.json ? JSON.stringify(replayed) : `replayed ${replayed.id} to ${replayed.topic} (replays: ${replayed.replays})`);
    return EXIT.ok;
  },
};
