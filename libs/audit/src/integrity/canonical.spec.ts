import { canonicalBytes, parseRecordBytes, recordBytes, type AuditRecordContent } from './canonical.js';

// Expected values are RFC 8785's own examples (https://www.rfc-editor.org/rfc/rfc8785):
// §3.2.2 sample input, §3.2.3 sorting sample, §3.2.4 UTF-8 bytes, Appendix B numbers.
// Inputs are written as JSON text with the RFC's escapes (String.raw + JSON.parse) so that the
// test source holds the sample exactly as printed.

const hexToBytes = (hex: string) => Buffer.from(hex.replace(/\s+/g, ''), 'hex');

describe('canonicalBytes (RFC 8785)', () => {
  it('§3.2.2 sample canonicalises to the §3.2.4 bytes', () => {
    const input = JSON.parse(String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`);
    const expected = hexToBytes(`
      7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72
      75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a
      5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31
      65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37
      5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30
      30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d`);
    const got = canonicalBytes(input);
    expect(got.toString('hex')).toBe(expected.toString('hex'));
    expect(got.toString('utf8')).toBe(
      String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`,
    );
  });

  it('§3.2.3 sorts property names by UTF-16 code units', () => {
    const input = JSON.parse(String.raw`{
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"
    }`);
    const text = canonicalBytes(input).toString('utf8');
    const values = Object.values(JSON.parse(text) as Record<string, string>);
    // JSON.parse keeps insertion order for non-index keys except "1" (an array index, always
    // first), so read the order from the text instead.
    const order = [...text.matchAll(/:"([^"]+)"/g)].map((m) => m[1]);
    expect(order).toEqual([
      'Carriage Return',
      'One',
      'Control',
      'Latin Small Letter O With Diaeresis',
      'Euro Sign',
      'Emoji: Grinning Face',
      'Hebrew Letter Dalet With Dagesh',
    ]);
    expect(values).toHaveLength(7);
    // The emoji (surrogate pair D83D DE00) sorts before U+FB33: UTF-16 order, not code points.
    expect(text.indexOf('\u{1F600}')).toBeLessThan(text.indexOf('\uFB33'));
    expect(text.startsWith(String.raw`{"\r":"Carriage Return","1":"One","` + '\u0080' + '":"Control"')).toBe(true);
  });

  it('§3.2.2 number serialisation: 1e+30, 4.5, 0.002, 1e-27, -0', () => {
    expect(canonicalBytes([1e30, 4.5, 2e-3, 1e-27, -0, 333333333.33333329]).toString()).toBe('[1e+30,4.5,0.002,1e-27,0,333333333.3333333]');
  });

  // Appendix B: IEEE 754 bit patterns and their canonical text.
  const appendixB: [string, string][] = [
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ];
  const double = (bits: string) => Buffer.from(bits, 'hex').readDoubleBE(0);

  it.each(appendixB)('Appendix B: 0x%s → %s', (bits, text) => {
    expect(canonicalBytes(double(bits)).toString()).toBe(text);
  });

  it.each([
    ['NaN (7fffffffffffffff)', double('7fffffffffffffff')],
    ['Infinity (7ff0000000000000)', double('7ff0000000000000')],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['undefined', undefined],
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
    ['a bigint', 1n],
    ['an undefined member', { a: 1, b: undefined }],
    ['a function member', { f() {} }],
    ['an undefined array item', [1, undefined]],
    ['a sparse array', [1, , 3]],
    ['a nested NaN', { a: [{ b: Number.NaN }] }],
    ['a Date', new Date(0)],
    ['a Buffer', Buffer.from('x')],
    ['a Map', new Map()],
    ['a lone surrogate', '\ud800'],
    ['a lone surrogate key', { ['\udc00']: 1 }],
  ])('throws on %s', (_name, value) => {
    expect(() => canonicalBytes(value)).toThrow(TypeError);
  });

  it('throws on circular references, allows shared (non-circular) ones', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    expect(() => canonicalBytes(a)).toThrow(TypeError);
    const shared = { x: 1 };
    expect(canonicalBytes({ p: shared, q: [shared] }).toString()).toBe('{"p":{"x":1},"q":[{"x":1}]}');
  });

  it('round-trips Chinese text as UTF-8, unescaped', () => {
    const value = { 事项: '不动产转移登记', 姓名: '张三', note: '数据多跑路，群众少跑腿' };
    const bytes = canonicalBytes(value);
    expect(bytes.toString('utf8')).toBe('{"note":"数据多跑路，群众少跑腿","事项":"不动产转移登记","姓名":"张三"}');
    expect(JSON.parse(bytes.toString('utf8'))).toEqual(value);
    // 张 is U+5F20: three UTF-8 bytes, not a \u escape.
    expect(bytes.includes(Buffer.from([0xe5, 0xbc, 0xa0]))).toBe(true);
    expect(canonicalBytes(JSON.parse(bytes.toString('utf8')))).toEqual(bytes);
  });

  it('is independent of property insertion order', () => {
    expect(canonicalBytes({ b: 1, a: { d: 2, c: 3 } })).toEqual(canonicalBytes({ a: { c: 3, d: 2 }, b: 1 }));
  });
});

describe('recordBytes', () => {
  const record = (): AuditRecordContent => ({
    v: 1,
    seq: 42,
    id: '0190f3a2-7c1e-7b3a-9a51-3f0c2d1e4b5a',
    at: '2025-03-01T08:15:30.123Z',
    member: 'zj.longyou.service-hall',
    actor: 'clerk-0042',
    action: 'lookup',
    source: 'civil-affairs.marriage',
    subject: 'hmac:3b5f',
    purpose: '不动产转移登记',
    caseId: 'case-1',
    object: null,
    fields: ['status', 'spouseName'],
    decision: 'allowed',
    reason: null,
    latencyMs: 12.5,
    correlationId: null,
  });

  it('produces the canonical JSON of the record, keys sorted', () => {
    expect(recordBytes(record()).toString('utf8')).toBe(
      '{"action":"lookup","actor":"clerk-0042","at":"2025-03-01T08:15:30.123Z","caseId":"case-1",' +
        '"correlationId":null,"decision":"allowed","fields":["status","spouseName"],' +
        '"id":"0190f3a2-7c1e-7b3a-9a51-3f0c2d1e4b5a","latencyMs":12.5,"member":"zj.longyou.service-hall","object":null,' +
        '"purpose":"不动产转移登记","reason":null,"seq":42,"source":"civil-affairs.marriage",' +
        '"subject":"hmac:3b5f","v":1}',
    );
  });

  it('parses back to the same content', () => {
    const bytes = recordBytes(record());
    expect(parseRecordBytes(bytes)).toEqual(record());
  });

  it.each<[string, (r: Record<string, unknown>) => void]>([
    ['an extra key', (r) => (r.extra = 1)],
    ['a missing key', (r) => delete r.reason],
    ['v 2', (r) => (r.v = 2)],
    ['seq 0', (r) => (r.seq = 0)],
    ['a fractional seq', (r) => (r.seq = 1.5)],
    ['at without ms', (r) => (r.at = '2025-03-01T08:15:30Z')],
    ['at with an offset', (r) => (r.at = '2025-03-01T08:15:30.123+08:00')],
    ['an unknown decision', (r) => (r.decision = 'maybe')],
    ['a non-string field', (r) => (r.fields = ['a', 1])],
    ['undefined source', (r) => (r.source = undefined)],
    ['NaN latency', (r) => (r.latencyMs = Number.NaN)],
    ['empty member', (r) => (r.member = '')],
  ])('rejects %s', (_name, mutate) => {
    const r = record() as unknown as Record<string, unknown>;
    mutate(r);
    expect(() => recordBytes(r as unknown as AuditRecordContent)).toThrow(TypeError);
  });
});
