import { DISCLOSURE_KINDS, recipientOfRequest, requestOfObject, requestSentTo } from './disclosures.js';

describe('disclosure records', () => {
  it('reads back the recipient a request record names', () => {
    expect(recipientOfRequest(requestSentTo('zj.demo.water', 'datarun.utility.water.transfer-requested.v1'))).toBe('zj.demo.water');
    expect(recipientOfRequest('published to datarun.utility.water.transfer-requested.v1')).toBeUndefined();
    expect(recipientOfRequest(null)).toBeUndefined();
  });

  it('reads the request of a transfer object, nothing of another', () => {
    expect(requestOfObject('transfer:6f1d3a52-4a8e-4c61-9d7a-3e2b1c0d9e8f')).toBe('6f1d3a52-4a8e-4c61-9d7a-3e2b1c0d9e8f');
    expect(requestOfObject('grant:1')).toBeNull();
    expect(requestOfObject(null)).toBeNull();
  });

  it('counts requests and material fetches as disclosures, not lookups or grant requests', () => {
    expect(DISCLOSURE_KINDS.get('transfer.requested')).toBe('request');
    expect(DISCLOSURE_KINDS.get('discount.requested')).toBe('request');
    expect(DISCLOSURE_KINDS.get('benefit.requested')).toBe('request');
    expect(DISCLOSURE_KINDS.get('material.fetched')).toBe('material');
    expect(DISCLOSURE_KINDS.get('grant.requested')).toBeUndefined();
    expect(DISCLOSURE_KINDS.get('lookup')).toBeUndefined();
    expect(DISCLOSURE_KINDS.get('constructor')).toBeUndefined();
  });
});
