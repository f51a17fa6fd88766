import { loadConfig } from '../config.js';
import { ConfigError } from '../config-error.js';
import { DEVELOPMENT_RATE_LIMIT, PRODUCTION_ADDRESS_LIMIT } from './rate-limit.js';

describe('the edge limits (sections http and rate-limit)', () => {
  it('are real limits by default: a 256 KiB body, request, headers, connection and keep-alive timeouts', () => {
    expect(loadConfig({}).http).toEqual({
      bodyLimit: 256 * 1024,
      connectionTimeoutMs: 60_000,
      requestTimeoutMs: 60_000,
      headersTimeoutMs: 10_000,
      keepAliveTimeoutMs: 72_000,
    });
  });

  it('never waits longer for the headers than for the whole request', () => {
    expect(loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '5000', HTTP_HEADERS_TIMEOUT_MS: '20000' }).http.headersTimeoutMs).toBe(5000);
  });

  it.each([
    ['HTTP_BODY_LIMIT', '100'],
    ['HTTP_BODY_LIMIT', String(64 * 1024 * 1024)],
    ['HTTP_REQUEST_TIMEOUT_MS', '0'],
    ['HTTP_KEEP_ALIVE_TIMEOUT_MS', 'forever'],
  ])('refuses %s=%s in one line naming it', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [variable]: value })).toThrow(variable);
  });

  it('limits a remote address for real in production, and not at all elsewhere, unless set', () => {
    expect(loadConfig({}).rateLimit.perAddress).toEqual({ perSecond: DEVELOPMENT_RATE_LIMIT, burst: DEVELOPMENT_RATE_LIMIT });
    expect(loadConfig({ NODE_ENV: 'production' }).rateLimit.perAddress).toEqual(PRODUCTION_ADDRESS_LIMIT);
    expect(loadConfig({ NODE_ENV: 'production', RATE_LIMIT_PER_ADDRESS_PER_SECOND: '50', RATE_LIMIT_PER_ADDRESS_BURST: '80' }).rateLimit.perAddress).toEqual({
      perSecond: 50,
      burst: 80,
    });
  });
});
