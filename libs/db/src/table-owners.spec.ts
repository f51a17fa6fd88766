// One owner per table (docs/architecture.md, "Who owns which data"): a lib's SQL and its TypeORM
// entity use may name only the tables TABLE_OWNERS gives it. Read from the sources with the
// TypeScript parser, so comments never count and every string (SQL is always a string) does.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import ts from 'typescript';
import { TABLE_OWNERS, tableOf } from './table-owners.js';

const LIBS = join(import.meta.dirname, '..', '..');

interface Crossing {
  readonly lib: string;
  readonly file: string;
  readonly line: number;
  readonly table: string;
  readonly owner: string;
  readonly how: string;
}

/** The lib's own code: not its specs, and for `db` not the migrations (they are every table's schema). */
function sourceFiles(lib: string): string[] {
  const root = join(LIBS, lib, 'src');
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!(lib === 'db' && entry.name === 'migrations') && !(lib === 'client' && entry.name === 'generated')) walk(path);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') && !entry.name.endsWith('.d.ts')) files.push(path);
    }
  };
  walk(root);
  return files;
}

const SQL_VERB = /^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|ALTER|COPY|TRUNCATE|LOCK|CREATE|DROP)\b/i;
const KEYWORD = /\b(FROM|JOIN|INTO|UPDATE|TABLE|COPY|TRUNCATE)\s+(?:ONLY\s+)?/g;
const NOT_ALIAS =
  /^(WHERE|JOIN|LEFT|RIGHT|INNER|FULL|CROSS|NATURAL|GROUP|ORDER|LIMIT|OFFSET|ON|USING|HAVING|RETURNING|SET|VALUES|UNION|FOR|WINDOW|DETACH|ATTACH|ADD|DROP|TO|AT)$/i;

/** Table names a string names as SQL: after FROM, JOIN, INTO, UPDATE, TABLE, COPY or TRUNCATE (each item of a FROM list). */
export function tablesInSql(text: string): string[] {
  // Keywords in upper case anywhere (the house style); in any case when the string is a statement.
  const keyword = new RegExp(KEYWORD.source, SQL_VERB.test(text) ? 'gi' : 'g');
  const found: string[] = [];
  for (const match of text.matchAll(keyword)) {
    let at = match.index + match[0].length;
    const skipSpace = () => {
      while (at < text.length && /\s/.test(text[at])) at += 1;
    };
    const skipParens = () => {
      for (let depth = 0; at < text.length; at += 1) {
        if (text[at] === '(') depth += 1;
        else if (text[at] === ')' && --depth === 0) return void (at += 1);
      }
    };
    const word = (): string | undefined => {
      const m = /^"?([A-Za-z_][A-Za-z0-9_]*)"?/.exec(text.slice(at));
      if (!m) return undefined;
      at += m[0].length;
      return m[1];
    };
    for (;;) {
      // one item: [schema.]name, or a function call name(...), or a subquery (...), then an optional alias
      skipSpace();
      if (text[at] === '(') skipParens();
      else {
        let name = word();
        if (name === undefined) break;
        while (text[at] === '.') {
          at += 1;
          name = word() ?? name;
        }
        if (text[at] === '(') skipParens();
        else found.push(name);
      }
      skipSpace();
      const alias = /^(?:AS\s+)?"?([A-Za-z_][A-Za-z0-9_]*)"?/i.exec(text.slice(at));
      if (alias && !NOT_ALIAS.test(alias[1])) {
        at += alias[0].length;
        if (text[at] === '(') skipParens(); // t(k, d)
        skipSpace();
      }
      if (text[at] !== ',' || !/^(FROM|UPDATE)/i.test(match[1])) break;
      at += 1;
    }
  }
  return found;
}

const DATA_ACCESS = new Set([
  'getRepository',
  'getTreeRepository',
  'forFeature',
  'InjectRepository',
  'createQueryBuilder',
  'find',
  'findBy',
  'findOne',
  'findOneBy',
  'findOneOrFail',
  'findOneByOrFail',
  'findAndCount',
  'findAndCountBy',
  'count',
  'countBy',
  'exists',
  'existsBy',
  'insert',
  'save',
  'update',
  'upsert',
  'delete',
  'remove',
  'increment',
  'decrement',
  'sum',
  'average',
  'minimum',
  'maximum',
  'clear',
  'innerJoin',
  'leftJoin',
  'innerJoinAndSelect',
  'leftJoinAndSelect',
]);
// Query-builder calls whose names other APIs share (Buffer.from, Array.from): entity classes only, never strings.
const ENTITY_ONLY = new Set(['from', 'into']);
// A relation loads the other table's rows through this entity; a foreign key (@ForeignKey) is schema only.
const RELATIONS = new Set(['ManyToOne', 'OneToOne', 'OneToMany', 'ManyToMany']);

function calleeName(call: ts.CallExpression): string | undefined {
  const e = call.expression;
  if (ts.isIdentifier(e)) return e.text;
  if (ts.isPropertyAccessExpression(e)) return e.name.text;
  return undefined;
}

function stringOf(node: ts.Node): string | undefined {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node)) return node.head.text + node.templateSpans.map((s) => ` ? ${s.literal.text}`).join('');
  return undefined;
}

/** Entity classes declared with @Entity('table'), by class name. */
export function entityTables(files: ReadonlyArray<{ name: string; text: string }>): Map<string, string> {
  const tables = new Map<string, string>();
  for (const { name, text } of files) {
    const source = ts.createSourceFile(name, text, ts.ScriptTarget.Latest, true);
    source.forEachChild(function visit(node): void {
      if (ts.isClassDeclaration(node) && node.name) {
        for (const d of ts.getDecorators(node) ?? []) {
          if (ts.isCallExpression(d.expression) && calleeName(d.expression) === 'Entity') {
            const table = d.expression.arguments[0] && stringOf(d.expression.arguments[0]);
            if (table) tables.set(node.name.text, table);
          }
        }
      }
      node.forEachChild(visit);
    });
  }
  return tables;
}

/** Every table this file names that `lib` does not own, with how it names it. */
export function crossingsIn(lib: string, file: string, text: string, entities: ReadonlyMap<string, string>): Crossing[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const crossings: Crossing[] = [];
  const check = (name: string, node: ts.Node, how: string) => {
    const table = tableOf(name);
    if (!table) return;
    const owner: string = TABLE_OWNERS[table];
    if (owner !== lib) crossings.push({ lib, file, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, table: name, owner, how });
  };
  const checkEntityArgs = (node: ts.Node, how: string, strings = true) => {
    if (ts.isIdentifier(node) && entities.has(node.text)) check(entities.get(node.text)!, node, `${how}(${node.text})`);
    else if (strings && ts.isStringLiteral(node) && (tableOf(node.text) || entities.has(node.text)))
      check(entities.get(node.text) ?? node.text, node, `${how}('${node.text}')`);
    else if (ts.isArrayLiteralExpression(node) || ts.isSpreadElement(node)) node.forEachChild((n) => checkEntityArgs(n, how, strings));
    else if (ts.isArrowFunction(node) && !ts.isBlock(node.body)) checkEntityArgs(node.body, how, strings);
  };
  source.forEachChild(function visit(node): void {
    const text = stringOf(node);
    if (text !== undefined) for (const name of tablesInSql(text)) check(name, node, 'SQL');
    if (ts.isCallExpression(node)) {
      const name = calleeName(node);
      if (name === 'Entity' && node.arguments[0]) {
        const table = stringOf(node.arguments[0]);
        if (table) check(table, node, `@Entity('${table}')`);
      }
      if (name && (DATA_ACCESS.has(name) || RELATIONS.has(name))) for (const arg of node.arguments) checkEntityArgs(arg, name);
      if (name && ENTITY_ONLY.has(name)) for (const arg of node.arguments) checkEntityArgs(arg, name, false);
    }
    node.forEachChild(visit);
  });
  return crossings;
}

describe('table ownership', () => {
  const libs = readdirSync(LIBS, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name);
  const files = libs.flatMap((lib) =>
    sourceFiles(lib).map((path) => ({ lib, name: relative(join(LIBS, '..'), path).split(sep).join('/'), text: readFileSync(path, 'utf8') })),
  );
  const entities = entityTables(files);

  it('gives every table to a lib that exists', () => {
    for (const owner of new Set(Object.values(TABLE_OWNERS))) expect(libs).toContain(owner);
  });

  it('lets no lib name a table it does not own, in SQL or through an entity', () => {
    const crossings = files.flatMap(({ lib, name, text }) => crossingsIn(lib, name, text, entities));
    expect(crossings.map((c) => `${c.file}:${c.line} ${c.how} names ${c.table}, owned by ${c.owner}`)).toEqual([]);
  });

  it('has an entity for every table (its owner declares it: @Entity on a foreign table is a crossing above)', () => {
    expect([...new Set(entities.values())].sort()).toEqual(Object.keys(TABLE_OWNERS).sort());
  });

  describe('fails on a crossing', () => {
    const ent = new Map([
      ['MatterEntity', 'matter'],
      ['CaseEntity', 'service_case'],
    ]);
    const crossingsOf = (lib: string, text: string) => crossingsIn(lib, 'x.ts', text, ent).map((c) => `${c.how} ${c.table} ${c.owner}`);

    it('in raw SQL, whatever the case of the keywords, but not in comments or prose', () => {
      const snippet = `
        // the evidence comes FROM matter (a comment is not SQL)
        const detail = 'read from the matter table'; // prose, lower case
        await this.dataSource.query('SELECT evidence FROM matter WHERE code = $1', [code]);
        await em.query(\`select kind from member where id = \${id}\`);
        await em.query(\`WITH moved AS (UPDATE transfer_request SET state = $1 RETURNING 1) SELECT * FROM moved\`);
        await em.query('SELECT 1 FROM unnest($1::text[]) AS t(k), source_record r LEFT JOIN "service_case" c ON true');
      `;
      expect(crossingsOf('lookups', snippet)).toEqual([
        'SQL matter registry',
        'SQL member registry',
        'SQL transfer_request transfers',
        'SQL source_record sources',
        'SQL service_case cases',
      ]);
      expect(crossingsOf('registry', `q('SELECT evidence FROM matter m JOIN member x ON true, access_grant')`)).toEqual([]);
    });

    it('through TypeORM: a foreign entity, @Entity on a foreign table, a relation; not a foreign key', () => {
      const snippet = `
        @Entity('member') export class Impostor {}
        const m = await em.getRepository(MatterEntity).findOneByOrFail({ code });
        await this.dataSource.manager.findOneBy(CaseEntity, { id });
        TypeOrmModule.forFeature([CaseEntity]);
        await qb.select('m.name').from(MatterEntity, 'm').leftJoin('service_case', 'c', 'c.matter_code = m.code').getRawMany();
        const bytes = Buffer.from('matter'); // not a query
        class Owned { @ManyToOne(() => MatterEntity) matter?: MatterEntity; @ForeignKey(() => MatterEntity) code: string; }
      `;
      expect(crossingsOf('auth-guard', snippet)).toEqual([
        "@Entity('member') member registry",
        'getRepository(MatterEntity) matter registry',
        'findOneBy(CaseEntity) service_case cases',
        'forFeature(CaseEntity) service_case cases',
        "leftJoin('service_case') service_case cases", // the chain's outer call first
        'from(MatterEntity) matter registry',
        'ManyToOne(MatterEntity) matter registry',
      ]);
    });

    it('finds the audit log by any of its partitions, and knows a partition is audit_event', () => {
      expect(crossingsOf('relay', 'q(`DELETE FROM audit_event_2026_01`)')).toEqual(['SQL audit_event_2026_01 audit']);
      expect(tablesInSql('SELECT max(seq) FROM audit_event_default')).toEqual(['audit_event_default']);
    });
  });
});
