import { jest } from '@jest/globals';
import { whileHeartbeating } from './kafka-messaging.js';

describe('whileHeartbeating', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('heartbeats every second while a message takes long, and stops when it is done', async () => {
    let beats = 0;
    let finish!: (value: string) => void;
    const work = whileHeartbeating(
      async () => void (beats += 1),
      () => new Promise<string>((resolve) => (finish = resolve)),
    );
    await jest.advanceTimersByTimeAsync(12_500); // longer than the group's 10 s session
    expect(beats).toBe(12);
    finish('applied');
    await expect(work).resolves.toBe('applied');
    await jest.advanceTimersByTimeAsync(5000);
    expect(beats).toBe(12);
  });

  it('keeps working through a heartbeat that fails (a rebalance under way), and passes on the work’s own failure', async () => {
    let beats = 0;
    let fail!: (error: Error) => void;
    const work = whileHeartbeating(
      async () => {
        beats += 1;
        throw new Error('The group is rebalancing, so a rejoin is needed');
      },
      () => new Promise<void>((_, reject) => (fail = reject)),
    );
    await jest.advanceTimersByTimeAsync(3000);
    expect(beats).toBe(3);
    fail(new Error('the system answered 503'));
    await expect(work).rejects.toThrow('the system answered 503');
  });
});
