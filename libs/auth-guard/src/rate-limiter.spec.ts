import { RateLimiter } from './rate-limiter.js';

describe('RateLimiter', () => {
  it('allows a burst, refuses the next with RATE_LIMITED, and refills with time, per key', () => {
    let now = 0;
    const limiter = new RateLimiter(2, 3, () => now);
    for (let i = 0; i < 3; i += 1) limiter.take('a');
    expect(() => limiter.take('a')).toThrow(expect.objectContaining({ code: 'RATE_LIMITED', status: 429, extensions: { retryAfter: 1 } }));
    limiter.take('b'); // another key has its own bucket
    now = 500; // half a second at 2/s refills one request
    limiter.take('a');
    expect(() => limiter.take('a')).toThrow(expect.objectContaining({ code: 'RATE_LIMITED' }));
    now = 10_000; // never more than the burst after a long pause
    for (let i = 0; i < 3; i += 1) limiter.take('a');
    expect(() => limiter.take('a')).toThrow(expect.objectContaining({ code: 'RATE_LIMITED' }));
  });

  it('names the key by `who` in the refusal', () => {
    const limiter = new RateLimiter(1, 1, () => 0);
    limiter.take('citizen:110101199003070079', 'this citizen');
    expect(() => limiter.take('citizen:110101199003070079', 'this citizen')).toThrow(expect.objectContaining({ detail: expect.not.stringContaining('1101') }));
  });

  it('keeps at most maxKeys buckets, dropping the least recently used', () => {
    const limiter = new RateLimiter(1, 1, () => 0, 2);
    limiter.take('a');
    limiter.take('b');
    expect(() => limiter.take('a')).toThrow(expect.objectContaining({ code: 'RATE_LIMITED' })); // a is now the most recent
    limiter.take('c'); // b goes
    expect(limiter.size).toBe(2);
    expect(() => limiter.take('a')).toThrow(expect.objectContaining({ code: 'RATE_LIMITED' })); // a was kept
    limiter.take('b'); // a fresh bucket: b was forgotten
  });
});
