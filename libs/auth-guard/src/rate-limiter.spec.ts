import { RateLimiter } from './rate-limiter.js';

describe('RateLimiter', () => {
  it('allows a burst, refuses the next with RATE_LIMITED, and refills with time, per member', () => {
    let now = 0;
    const limiter = new RateLimiter(2, 3, () => now);
    for (let i = 0; i < 3; i += 1) limiter.take('a');
    expect(() => limiter.take('a')).toThrow(expect.objectContaining({ code: 'RATE_LIMITED', status: 429, extensions: { retryAfter: 1 } }));
    limiter.take('b'); // another member has its own bucket
    now = 500; // half a second at 2/s refills one request
    limiter.take('a');
    expect(() => limiter.take('a')).toThrow(expect.objectContaining({ code: 'RATE_LIMITED' }));
    now = 10_000; // never more than the burst after a long pause
    for (let i = 0; i < 3; i += 1) limiter.take('a');
    expect(() => limiter.take('a')).toThrow(expect.objectContaining({ code: 'RATE_LIMITED' }));
  });
});
