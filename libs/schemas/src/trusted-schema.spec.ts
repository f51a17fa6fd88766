import { compileTrusted } from './trusted-schema.js';

describe('compileTrusted', () => {
  const validate = compileTrusted({
    type: 'object',
    properties: {
      source: { type: 'string', pattern: '^[a-z][a-z0-9-]*$' },
      fields: { type: 'array', items: { type: 'string', minLength: 1 } },
      validUntil: { type: 'string', format: 'date-time' },
      contact: { type: 'string', format: 'email' },
    },
    required: ['source', 'fields'],
    additionalProperties: false,
  });

  it('accepts a valid body', () => {
    expect(validate({ source: 'household', fields: ['name'], validUntil: '2030-01-01T00:00:00Z', contact: 'clerk@example.org' })).toEqual({ ok: true });
  });

  it('reports every error, each with a JSON Pointer into the body', () => {
    const verdict = validate({ fields: ['name', ''], validUntil: 'tomorrow', extra: true });
    expect(verdict.ok).toBe(false);
    if (verdict.ok) return;
    expect(verdict.errors.map((error) => error.path).sort()).toEqual(['/extra', '/fields/1', '/source', '/validUntil']);
    expect(verdict.errors.find((error) => error.path === '/source')?.message).toBe('is required');
  });

  it('escapes JSON Pointer tokens in member names', () => {
    const verdict = compileTrusted({ type: 'object', additionalProperties: false })({ 'a/b~c': 1 });
    expect(verdict).toEqual({ ok: false, errors: [{ path: '/a~1b~0c', message: 'is not allowed' }] });
  });

  it('is strict about its own schemas', () => {
    expect(() => compileTrusted({ type: 'object', propertiez: {} })).toThrow(/unknown keyword/);
  });
});

describe('a schema of our own that is wrong', () => {
  it('says what is wrong every time it is compiled, not that its $id already exists', () => {
    const broken = () => ({ $id: 'https://datarun.example/schemas/test/broken.json', type: 'object', then: { required: ['reason'] }, if: { type: 'object' } });
    expect(() => compileTrusted(broken())).toThrow(/strict mode: required property "reason"/);
    expect(() => compileTrusted(broken())).toThrow(/strict mode: required property "reason"/);
  });
});
