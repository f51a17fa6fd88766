// `npm run dlq -- list [--topic T] [--limit N] [--cursor C] [--json]` and `npm run dlq -- replay <id>`:
// the relay's dead letters for operators at a shell, straight on the database (DATABASE_URL) and
// the broker (KAFKA_BROKERS), with the same code as `GET /v1/ops/dead-letters` and its replay.
// A replay is audited as member datarun.admin, actor `cli:<os user>`. Exits 0 on success, 1 on
// an error (printed as `dlq: CODE: detail`).
import { realpathSync } from 'node:fs';
import { userInfo } from 'node:os';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { AuditLog } from '@datarun/audit';
import { ADMIN_MEMBER_ID, type Caller } from '@datarun/auth';
import { requireSupportedNode, type DatarunConfig, loadConfig } from '@datarun/config';
import { dataSourceOptions, describeDatabase } from '@datarun/db';
import { KafkaMessaging } from '@datarun/messaging';
import { Problem } from '@datarun/problems';
import { type DeadLetterView, DeadLettersService } from '@datarun/transfers';
import { DataSource } from 'typeorm';

requireSupportedNode('dlq');

const USAGE = `usage: npm run dlq -- list [--topic <original topic>] [--limit <1..1000>] [--cursor <next>] [--json]
       npm run dlq -- replay <dead letter id>`;

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

/** Runs one command; returns the exit code. `print` gets stdout lines, `complain` stderr lines. */
export async function runDlq(
  argv: readonly string[],
  config: DatarunConfig,
  print: (line: string) => void = console.log,
  complain: (line: string) => void = console.error,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        topic: { type: 'string' },
        limit: { type: 'string' },
        cursor: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    complain(`dlq: ${(error as Error).message}\n${USAGE}`);
    return 1;
  }
  const { values, positionals } = parsed;
  const [command, id, ...extra] = positionals;
  const valid = (command === 'list' && id === undefined) || (command === 'replay' && id !== undefined && extra.length === 0);
  if (values.help || !valid) {
    complain(USAGE);
    return 1;
  }

  const dataSource = new DataSource(dataSourceOptions(config.database, 'app'));
  const messaging = new KafkaMessaging(config.kafka);
  try {
    await dataSource.initialize().catch((error: Error) => {
      throw new Error(`cannot connect to ${describeDatabase(config.database.url)}: ${error.message}`);
    });
    const deadLetters = new DeadLettersService(dataSource, messaging, new AuditLog(dataSource));
    if (command === 'list') {
      const page = await deadLetters.list(cliCaller(), {
        topic: values.topic,
        limit: values.limit === undefined ? undefined : Number(values.limit),
        cursor: values.cursor,
      });
      if (values.json) {
        print(JSON.stringify(page));
      } else {
        for (const item of page.items) print(line(item));
        if (page.next) print(`(more: --cursor ${page.next})`);
      }
    } else {
      const replayed = await deadLetters.replay(cliCaller(), id!);
      print(values.json ? JSON.stringify(replayed) : `replayed ${replayed.id} to ${replayed.topic} (replays: ${replayed.replays})`);
    }
    return 0;
  } catch (error) {
    complain(error instanceof Problem ? `dlq: ${error.code}: ${error.detail}` : `dlq: ${(error as Error).message}`);
    return 1;
  } finally {
    await messaging.close();
    if (dataSource.isInitialized) await dataSource.destroy();
  }
}

function line(d: DeadLetterView): string {
  return [d.at, d.id, d.topic || '(no topic)', `key=${d.key ?? '-'}`, `by=${d.by}`, `replays=${d.replays}`, d.reason.replace(/\s+/g, ' ')].join('  ');
}

/** True when node runs this file itself (not when a test imports runDlq); symlinks resolved as node does. */
function isEntryPoint(): boolean {
  try {
    return process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  try {
    process.exitCode = await runDlq(process.argv.slice(2), loadConfig(process.env));
  } catch (error) {
    console.error(`dlq: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
