import { jest } from '@jest/globals';
import { PartitionChoices, whileHeartbeating } from './kafka-messaging.js';

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

describe('PartitionChoices', () => {
  it('keeps the last partition chosen for each message of the send, whatever attempts came before', () => {
    const choices = new PartitionChoices();
    const [a, b, c] = [{ key: 'a', value: 'a' }, { value: 'b' }, { value: 'c', partition: 5 }];
    choices.begin();
    // An attempt that stopped after the first message (a broker it could not reach)…
    choices.record(a, 't', 0);
    // …and the retry, where the keyless message takes the next partition in turn.
    choices.record(a, 't', 0);
    choices.record(b, 't', 2);
    choices.record(c, 'u', 5);
    expect([...choices.chosen].sort()).toEqual(['t:0', 't:2', 'u:5']);
    choices.record(b, 't', 3);
    expect([...choices.chosen].sort()).toEqual(['t:0', 't:3', 'u:5']);
    // The next send starts afresh.
    choices.begin();
    choices.record(b, 't', 4);
    expect([...choices.chosen]).toEqual(['t:4']);
  });
});
