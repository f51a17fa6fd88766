import { generateKeyPairSync } from 'node:crypto';
import { EgressRefused } from '@datarun/egress';
import { Problem } from '@datarun/problems';
import { structuredEvent } from './webhook-delivery.js';
import { type AttemptOutcome, backoffMs, outcomeOfError, outcomeOfStatus, type RetryClock, WEBHOOK_BACKOFF, withRetries } from './webhook-retries.js';
import { signWebhook, verifyWebhookSignature } from './webhook-signature.js';

/** A clock that moves only when the retries sleep: what they waited is recorded, nothing waits for real. */
function fakeClock(random = () => 0.999_999): RetryClock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    random,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

/** Answers the outcomes in turn, counting attempts. */
function endpoint(...outcomes: AttemptOutcome[]) {
  const calls: number[] = [];
  return {
    calls,
    attempt: async (n: number) => {
      calls.push(n);
      return outcomes[Math.min(n - 1, outcomes.length - 1)];
    },
  };
}

const busy = outcomeOfStatus(503);

describe('webhook answers: what is delivered, what is retried, what is given up at once', () => {
  it.each([200, 201, 202, 204, 299])('%i is delivered', (status) => expect(outcomeOfStatus(status)).toEqual({ kind: 'delivered', status }));
  it.each([500, 502, 503, 504, 408, 429])('%i is retried', (status) => expect(outcomeOfStatus(status)).toMatchObject({ kind: 'retry', status }));
  it.each([400, 401, 403, 404, 409, 410, 413, 422])('%i is permanent', (status) =>
    expect(outcomeOfStatus(status)).toMatchObject({ kind: 'permanent', status }),
  );
  it.each([301, 302, 307, 308])('%i (a redirect, never followed) is permanent', (status) =>
    expect(outcomeOfStatus(status)).toMatchObject({ kind: 'permanent', reason: expect.stringContaining('not followed') }),
  );

  it('reads Retry-After in seconds or as a date', () => {
    expect(outcomeOfStatus(429, '7')).toMatchObject({ retryAfterMs: 7000 });
    const at = new Date(Date.now() + 60_000).toUTCString();
    expect((outcomeOfStatus(503, at) as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(50_000);
    expect(outcomeOfStatus(503, 'soon')).not.toHaveProperty('retryAfterMs');
  });

  it('gives up at once on an endpoint the allowlist refuses, at registration or after DNS; retries timeouts and connection errors', () => {
    expect(outcomeOfError(new Problem('ENDPOINT_NOT_ALLOWED', 'the endpoint evil.example:443 is not on the egress allowlist'))).toMatchObject({
      kind: 'permanent',
      reason: expect.stringMatching(/^ENDPOINT_NOT_ALLOWED/),
    });
    const refused = outcomeOfError(new EgressRefused('localhost', 8080));
    expect(refused).toMatchObject({ kind: 'permanent', reason: expect.stringMatching(/^ENDPOINT_NOT_ALLOWED: localhost:8080/) });
    expect(outcomeOfError(new DOMException('The operation timed out.', 'TimeoutError'))).toEqual({ kind: 'retry', reason: 'timed out' });
    expect(outcomeOfError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }))).toEqual({
      kind: 'retry',
      reason: 'connection failed (ECONNREFUSED)',
    });
  });
});

describe('backoff: exponential with full jitter, capped', () => {
  it('stays below base · 2^(n-1) and the cap, and goes down to 0 with the jitter', () => {
    for (let retry = 1; retry <= 20; retry += 1) {
      const ceiling = Math.min(WEBHOOK_BACKOFF.capMs, WEBHOOK_BACKOFF.baseMs * 2 ** (retry - 1));
      expect(backoffMs(retry, () => 0)).toBe(0);
      expect(backoffMs(retry, () => 0.999_999)).toBe(ceiling - 1);
      expect(backoffMs(retry, () => 0.5)).toBe(Math.floor(ceiling / 2));
    }
    expect(backoffMs(1, () => 0.999_999)).toBe(199);
    expect(backoffMs(100, () => 0.999_999)).toBe(WEBHOOK_BACKOFF.capMs - 1);
  });
});

describe('retries within the attempts and the budget', () => {
  it('delivers on the first 2xx after retrying 5xx, with one sleep between attempts', async () => {
    const clock = fakeClock();
    const target = endpoint(busy, busy, outcomeOfStatus(200));
    const retried: number[] = [];
    const verdict = await withRetries(target.attempt, { maxAttempts: 8, budgetMs: 300_000 }, clock, (n) => retried.push(n));
    expect(verdict).toEqual({ delivered: true, attempts: 3, status: 200 });
    expect(target.calls).toEqual([1, 2, 3]);
    expect(retried).toEqual([1, 2]);
    expect(clock.slept).toEqual([199, 399]);
  });

  it('gives up a permanent answer at once, without waiting', async () => {
    const clock = fakeClock();
    const target = endpoint(outcomeOfStatus(422));
    expect(await withRetries(target.attempt, { maxAttempts: 8, budgetMs: 300_000 }, clock)).toEqual({
      delivered: false,
      attempts: 1,
      permanent: true,
      reason: 'answered 422',
    });
    expect(clock.slept).toEqual([]);
  });

  it('stops after the last attempt with the last reason', async () => {
    const clock = fakeClock();
    const target = endpoint(busy, busy, outcomeOfStatus(429));
    const verdict = await withRetries(target.attempt, { maxAttempts: 3, budgetMs: 300_000 }, clock);
    expect(verdict).toEqual({ delivered: false, attempts: 3, permanent: false, reason: 'answered 429; gave up after 3 attempts' });
    expect(target.calls).toEqual([1, 2, 3]);
    expect(clock.slept).toHaveLength(2);
  });

  it('makes no retry that would start after the budget', async () => {
    const clock = fakeClock();
    const target = endpoint(busy);
    // Waits of 199, 399, 799, 1599 ms: the fifth would start at 6.2 s, past a 5 s budget.
    const verdict = await withRetries(target.attempt, { maxAttempts: 100, budgetMs: 5000 }, clock);
    expect(verdict).toMatchObject({ delivered: false, attempts: 5, permanent: false, reason: expect.stringContaining('retry budget of 5 s spent') });
    expect(clock.slept).toEqual([199, 399, 799, 1599]);
    expect(clock.now()).toBeLessThanOrEqual(5000);
  });

  it('waits at least a Retry-After (up to the cap) rather than the shorter backoff', async () => {
    const clock = fakeClock(() => 0);
    const target = endpoint(outcomeOfStatus(429, '3'), outcomeOfStatus(503, '3600'), outcomeOfStatus(204));
    expect(await withRetries(target.attempt, { maxAttempts: 8, budgetMs: 300_000 }, clock)).toMatchObject({ delivered: true, attempts: 3 });
    expect(clock.slept).toEqual([3000, WEBHOOK_BACKOFF.capMs]);
  });

  it('a sleep that throws (the consumer stopping) ends the delivery without a verdict', async () => {
    const clock: RetryClock = { now: () => 0, random: () => 0.5, sleep: () => Promise.reject(new Error('stopping')) };
    await expect(withRetries(endpoint(busy).attempt, { maxAttempts: 8, budgetMs: 300_000 }, clock)).rejects.toThrow('stopping');
  });
});

describe('the signed CloudEvent', () => {
  const platform = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key = { kid: 'platform', privateKey: platform.privateKey };
  const keys = new Map([['platform', platform.publicKey]]);
  const ENDPOINT = 'https://broadband.example/v1/webhooks/zj.demo.broadband';
  const ID = '6f1c8a34-5f1e-4d8e-9a55-0d1f7f3c2b10';
  const body = Buffer.from(
    structuredEvent({
      specversion: '1.0',
      id: ID,
      type: 'datarun.utility.transfer-requested.v1',
      source: 'datarun.relay',
      subject: ID,
      time: '2026-12-07T03:00:00.000Z',
      datacontenttype: 'application/json',
      correlationid: 'abc',
      data: { requestId: ID },
    }),
  );

  it('is structured mode: the attributes and the data in one JSON object', () => {
    expect(JSON.parse(body.toString())).toEqual({
      specversion: '1.0',
      id: ID,
      type: 'datarun.utility.transfer-requested.v1',
      source: 'datarun.relay',
      subject: ID,
      time: '2026-12-07T03:00:00.000Z',
      datacontenttype: 'application/json',
      correlationid: 'abc',
      data: { requestId: ID },
    });
  });

  it('verifies for its endpoint and event id only, with the platform key only', async () => {
    const signature = await signWebhook(body, { endpoint: ENDPOINT, eventId: ID }, key);
    expect(await verifyWebhookSignature(body, signature, { endpoint: ENDPOINT, eventId: ID }, keys)).toMatchObject({ ok: true });
    const elsewhere = await verifyWebhookSignature(body, signature, { endpoint: 'https://other.example/hook', eventId: ID }, keys);
    expect(elsewhere).toMatchObject({ ok: false, reason: expect.stringContaining('signed for topic') });
    expect(await verifyWebhookSignature(body, signature, { endpoint: ENDPOINT, eventId: 'another' }, keys)).toMatchObject({ ok: false });
    const altered = Buffer.from(body.toString().replace('"abc"', '"abd"'));
    expect(await verifyWebhookSignature(altered, signature, { endpoint: ENDPOINT, eventId: ID }, keys)).toMatchObject({ ok: false });
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const forged = await signWebhook(body, { endpoint: ENDPOINT, eventId: ID }, { kid: 'platform', privateKey: stranger.privateKey });
    expect(await verifyWebhookSignature(body, forged, { endpoint: ENDPOINT, eventId: ID }, keys)).toMatchObject({ ok: false });
    expect(await verifyWebhookSignature(body, undefined, { endpoint: ENDPOINT, eventId: ID }, keys)).toMatchObject({ ok: false });
  });
});
