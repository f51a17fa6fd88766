import { loadConfig } from '../config.js';
import { ConfigError } from '../config-error.js';

describe('the egress section', () => {
  it('allows the sandbox only in development and test, and nothing in production', () => {
    expect(loadConfig({}).egress.allowlist).toEqual(['127.0.0.1:3010']);
    expect(loadConfig({ NODE_ENV: 'test', SANDBOX_PORT: '4010' }).egress.allowlist).toEqual(['127.0.0.1:4010']);
    expect(loadConfig({ NODE_ENV: 'production' }).egress.allowlist).toEqual([]);
  });

  it('takes the operator’s entries, and `none` for nothing', () => {
    expect(loadConfig({ EGRESS_ALLOWLIST: 'dept.example.gov.cn:443, 10.20.0.0/16:8443,[fd00::/8]:*' }).egress.allowlist).toEqual([
      'dept.example.gov.cn:443',
      '10.20.0.0/16:8443',
      '[fd00::/8]:*',
    ]);
    expect(loadConfig({ EGRESS_ALLOWLIST: 'none' }).egress.allowlist).toEqual([]);
  });

  it.each(['dept.example.gov.cn', 'http://dept:80', 'dept:80/path', '*:*'])('refuses %s in one line naming EGRESS_ALLOWLIST', (value) => {
    expect(() => loadConfig({ EGRESS_ALLOWLIST: value })).toThrow(ConfigError);
    expect(() => loadConfig({ EGRESS_ALLOWLIST: value })).toThrow(/^EGRESS_ALLOWLIST: expected /);
  });

  it('names the platform key id, `platform` unless set', () => {
    expect(loadConfig({}).egress.platformKeyId).toBe('platform');
    expect(loadConfig({ DATARUN_PLATFORM_KEY_ID: 'platform-2027' }).egress.platformKeyId).toBe('platform-2027');
  });
});
