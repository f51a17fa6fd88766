import { EgressPolicy } from '@datarun/egress';
import { checkedRecipientSettings, type RecipientSettingsInput } from './recipient-settings.js';

const egress = EgressPolicy.of(['127.0.0.1:3010', 'hooks.example:443']);

const refusal = (work: () => unknown) => {
  try {
    work();
  } catch (error) {
    return { code: (error as { code: string }).code, detail: (error as { detail: string }).detail };
  }
  return 'no refusal';
};

describe('checkedRecipientSettings', () => {
  it("keeps a utility's Kafka settings, its request kinds once each in the contract's order", () => {
    expect(checkedRecipientSettings('utility', { delivery: 'kafka', requests: ['discount', 'transfer', 'discount'], utilityKind: 'cable' }, egress)).toEqual({
      delivery: 'kafka',
      requests: ['transfer', 'discount'],
      utilityKind: 'cable',
    });
  });

  it("keeps a department's webhook on the allowlist", () => {
    const endpoint = 'https://hooks.example/v1/datarun';
    expect(checkedRecipientSettings('department', { delivery: 'webhook', endpoint, requests: ['benefit'] }, egress)).toEqual({
      delivery: 'webhook',
      endpoint,
      requests: ['benefit'],
    });
  });

  it.each<[string, Parameters<typeof checkedRecipientSettings>[0], RecipientSettingsInput, string, string]>([
    [
      'a consumer',
      'consumer',
      { delivery: 'kafka', requests: ['benefit'] },
      'VALIDATION_FAILED',
      'only utility and department members receive requests, not a member of kind consumer',
    ],
    ['an auditor', 'auditor', { delivery: 'kafka', requests: ['benefit'] }, 'VALIDATION_FAILED', 'not a member of kind auditor'],
    [
      'a utility kind for a department',
      'department',
      { delivery: 'kafka', requests: ['benefit'], utilityKind: 'heat' },
      'VALIDATION_FAILED',
      'only a utility member',
    ],
    [
      'an unknown utility kind',
      'utility',
      { delivery: 'kafka', requests: ['transfer'], utilityKind: 'steam' },
      'VALIDATION_FAILED',
      'utilityKind must be one of',
    ],
    ['an unknown delivery', 'utility', { delivery: 'sftp' as never, requests: ['transfer'] }, 'VALIDATION_FAILED', 'delivery must be one of kafka, webhook'],
    ['no requests', 'utility', { delivery: 'kafka', requests: [] }, 'VALIDATION_FAILED', 'at least one request kind'],
    ['an unknown request', 'utility', { delivery: 'kafka', requests: ['transfer', 'refund' as never] }, 'VALIDATION_FAILED', 'not refund'],
    ['a webhook without an endpoint', 'department', { delivery: 'webhook', requests: ['benefit'] }, 'VALIDATION_FAILED', 'needs an endpoint'],
    [
      'a kafka recipient with an endpoint',
      'department',
      { delivery: 'kafka', endpoint: 'https://hooks.example/x', requests: ['benefit'] },
      'VALIDATION_FAILED',
      'only a webhook',
    ],
    [
      'a webhook off the allowlist',
      'department',
      { delivery: 'webhook', endpoint: 'https://evil.example/x', requests: ['benefit'] },
      'ENDPOINT_NOT_ALLOWED',
      'evil.example',
    ],
    [
      'a webhook with a query',
      'department',
      { delivery: 'webhook', endpoint: 'https://hooks.example/x?a=1', requests: ['benefit'] },
      'ENDPOINT_NOT_ALLOWED',
      'query',
    ],
    [
      'a webhook that is no http URL',
      'department',
      { delivery: 'webhook', endpoint: 'ftp://127.0.0.1:3010/x', requests: ['benefit'] },
      'ENDPOINT_NOT_ALLOWED',
      'http',
    ],
  ])('refuses %s', (_, kind, input, code, detail) => {
    expect(refusal(() => checkedRecipientSettings(kind, input, egress))).toEqual({ code, detail: expect.stringContaining(detail) });
  });
});
