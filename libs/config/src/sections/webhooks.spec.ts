import { loadConfig } from '../config.js';
import { ConfigError } from '../config-error.js';

describe('the webhooks section', () => {
  it('retries 8 attempts within 300 s, 5 s each, and re-reads the recipients every 5 s, unless set', () => {
    expect(loadConfig({}).webhooks).toEqual({ maxAttempts: 8, retryBudgetMs: 300_000, timeoutMs: 5000, refreshMs: 5000, deliveryKeyId: 'delivery' });
    expect(
      loadConfig({
        WEBHOOK_MAX_ATTEMPTS: '3',
        WEBHOOK_RETRY_BUDGET_SECONDS: '2',
        WEBHOOK_TIMEOUT_MS: '250',
        WEBHOOK_REFRESH_SECONDS: '1',
        DATARUN_DELIVERY_KEY_ID: 'delivery-2027',
      }).webhooks,
    ).toEqual({ maxAttempts: 3, retryBudgetMs: 2000, timeoutMs: 250, refreshMs: 1000, deliveryKeyId: 'delivery-2027' });
  });

  it.each([
    ['WEBHOOK_MAX_ATTEMPTS', '0'],
    ['WEBHOOK_RETRY_BUDGET_SECONDS', '0'],
    ['WEBHOOK_TIMEOUT_MS', '10'],
    ['WEBHOOK_REFRESH_SECONDS', 'soon'],
    ['DATARUN_DELIVERY_KEY_ID', 'a key/id'],
  ])('refuses %s=%s in one line naming it', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [variable]: value })).toThrow(new RegExp(`^${variable}: expected `));
  });
});

describe("the sandbox's webhook members", () => {
  it("serves the demo's broadband company and 残联 unless set, each with its development key, key id its member id", () => {
    expect(loadConfig({ DATARUN_LOCAL_DIR: '/srv/d' }).sandbox.webhookMembers).toEqual([
      { id: 'zj.demo.broadband', keyId: 'zj.demo.broadband', privateKey: '/srv/d/keys/zj.demo.broadband.key.pem' },
      { id: 'zj.demo.canlian', keyId: 'zj.demo.canlian', privateKey: '/srv/d/keys/zj.demo.canlian.key.pem' },
    ]);
    expect(loadConfig({ SANDBOX_WEBHOOK_MEMBERS: 'zj.test.one' }).sandbox.webhookMembers.map((m) => m.id)).toEqual(['zj.test.one']);
    expect(loadConfig({ SANDBOX_WEBHOOK_MEMBERS: 'none' }).sandbox.webhookMembers).toEqual([]);
  });

  it.each(['Zj.Demo', 'a,,b', 'zj.demo.broadband, zj.demo.canlian'])('refuses %s', (value) => {
    expect(() => loadConfig({ SANDBOX_WEBHOOK_MEMBERS: value })).toThrow(/^SANDBOX_WEBHOOK_MEMBERS: expected /);
  });
});
