import { loadConfig } from './config.js';
import { ConfigError } from './config-error.js';
import { type DevelopmentDefault, refuseDevelopmentDefaults, refuseDevelopmentKey } from './production.js';

const PRODUCTION = {
  NODE_ENV: 'production',
  RATE_LIMIT_PER_SECOND: '50',
  RATE_LIMIT_BURST: '100',
  CONNECTOR_MEMBER_ID: 'zj.city.water',
  CONNECTOR_UTILITY_KIND: 'water',
  CONNECTOR_SYSTEM_URL: 'https://water.example/api',
};

/** The ConfigError `work` throws, checked to be one line starting with the variable to set. */
function refusal(work: () => void): ConfigError {
  let error: unknown;
  try {
    work();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigError);
  const message = (error as Error).message;
  expect(message.startsWith(`${(error as ConfigError).variable}: expected `)).toBe(true);
  expect(message).not.toContain('\n');
  return error as ConfigError;
}

describe('refuseDevelopmentDefaults', () => {
  const ALL: DevelopmentDefault[] = ['rate-limit', 'connector-system', 'connector-inbox'];

  it.each(['development', 'test'])('lets %s run on every default', (env) => {
    expect(() => refuseDevelopmentDefaults(loadConfig({ NODE_ENV: env }), ALL)).not.toThrow();
    expect(() => refuseDevelopmentDefaults(loadConfig({}), ALL)).not.toThrow();
  });

  it('lets production run once it set what it uses', () => {
    expect(() => refuseDevelopmentDefaults(loadConfig(PRODUCTION), ALL)).not.toThrow();
  });

  it.each([
    [{ RATE_LIMIT_PER_SECOND: '' }, 'RATE_LIMIT_PER_SECOND'],
    [{ RATE_LIMIT_BURST: '' }, 'RATE_LIMIT_BURST'],
    [{ RATE_LIMIT_PER_SECOND: '100000' }, 'RATE_LIMIT_PER_SECOND'],
  ])('refuses the development rate limit in production: %j', (env, variable) => {
    const error = refusal(() => refuseDevelopmentDefaults(loadConfig({ ...PRODUCTION, ...env }), ['rate-limit']));
    expect(error.variable).toBe(variable);
    expect(error.message).toContain('100000');
  });

  it.each([
    { CONNECTOR_SYSTEM_URL: '' },
    { CONNECTOR_SYSTEM_URL: 'http://127.0.0.1:3010/v1/utilities/water' },
    { CONNECTOR_SYSTEM_URL: '', CONNECTOR_UTILITY_KIND: 'gas', SANDBOX_PORT: '4010' },
    { CONNECTOR_SYSTEM_URL: '', CONNECTOR_UTILITY_KIND: '', CONNECTOR_MEMBER_ID: 'zj.city.renshe' },
  ])("refuses the sandbox as a connector's system in production: %j", (env) => {
    const error = refusal(() => refuseDevelopmentDefaults(loadConfig({ ...PRODUCTION, ...env }), ['connector-system']));
    expect(error.variable).toBe('CONNECTOR_SYSTEM_URL');
    expect(error.message).toMatch(/sandbox.*got "http:\/\/127\.0\.0\.1:\d+\/v1\/(utilities\/[a-z]+|recipients\/zj\.city\.renshe)"/);
  });

  it("refuses a connector's inbox in memory in production", () => {
    const error = refusal(() => refuseDevelopmentDefaults(loadConfig({ ...PRODUCTION, CONNECTOR_INBOX: ':memory:' }), ['connector-inbox']));
    expect(error.variable).toBe('CONNECTOR_INBOX');
    expect(() =>
      refuseDevelopmentDefaults(loadConfig({ ...PRODUCTION, CONNECTOR_INBOX: '/var/lib/connector/inbox.sqlite' }), ['connector-inbox']),
    ).not.toThrow();
  });

  it('refuses only what the app uses', () => {
    const development = loadConfig({ NODE_ENV: 'production', CONNECTOR_MEMBER_ID: 'zj.city.water' });
    expect(() => refuseDevelopmentDefaults(development, [])).not.toThrow();
    expect(() => refuseDevelopmentDefaults(development, ['connector-system'])).toThrow(/^CONNECTOR_SYSTEM_URL: /);
    expect(() => refuseDevelopmentDefaults(development, ['rate-limit'])).toThrow(/^RATE_LIMIT_PER_SECOND: /);
  });
});

describe('refuseDevelopmentKey', () => {
  it.each(['development', 'test'])('lets %s use the development keys under .local', (env) => {
    const config = loadConfig({ NODE_ENV: env });
    expect(() => refuseDevelopmentKey(config, 'subjectHashKey', config.keys.subjectHashKey)).not.toThrow();
  });

  it('refuses, in production, a key left to its development default, naming the variable to set', () => {
    const config = loadConfig(PRODUCTION);
    const error = refusal(() => refuseDevelopmentKey(config, 'subjectHashKey', config.keys.subjectHashKey));
    expect(error.variable).toBe('DATARUN_SUBJECT_HASH_KEY');
    expect(error.message).toBe(
      'DATARUN_SUBJECT_HASH_KEY: expected a key file from your secret store in production, not one under the development folder .local/keys (got ".local/keys/subject-hash.key")',
    );
  });

  it("refuses, in production, any key under .local or under the local folder's keys", () => {
    const config = loadConfig({ ...PRODUCTION, DATARUN_LOCAL_DIR: '/var/lib/datarun' });
    expect(() => refuseDevelopmentKey(config, 'materialLinkKey', config.keys.materialLinkKey)).toThrow(
      /^DATARUN_MATERIAL_LINK_KEY: .*folder \/var\/lib\/datarun\/keys /,
    );
    expect(() => refuseDevelopmentKey(config, 'auditSigningKey', './.local/audit.key.pem')).toThrow(/^DATARUN_AUDIT_SIGNING_KEY: .*folder \.local /);
    expect(() => refuseDevelopmentKey(config, 'auditSigningKey', '/var/lib/datarun/secrets/audit.key.pem')).not.toThrow();
  });

  it('accepts, in production, a key from elsewhere', () => {
    const config = loadConfig({ ...PRODUCTION, DATARUN_SUBJECT_HASH_KEY: '/run/secrets/subject-hash.key' });
    expect(() => refuseDevelopmentKey(config, 'subjectHashKey', config.keys.subjectHashKey)).not.toThrow();
    expect(() => refuseDevelopmentKey(config, 'subjectHashKey', '.localised/key')).not.toThrow();
  });
});
