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
  it('keeps the partitions of the last attempt only, with those the messages named themselves', () => {
    const choices = new PartitionChoices();
    choices.begin([
      { topic: 't', messages: [{ value: 'a' }, { value: 'b' }, { value: 'c', partition: 5 }] },
      { topic: 'u', messages: [{ value: 'd' }] },
    ]);
    // First attempt: three messages without a partition.
    choices.record('t', 0);
    choices.record('t', 1);
    choices.record('u', 0);
    expect([...choices.chosen].sort()).toEqual(['t:0', 't:1', 't:5', 'u:0']);
    // A retry: kafkajs asks again for each, and the keyless ones move on in turn.
    choices.record('t', 2);
    choices.record('t', 3);
    choices.record('u', 1);
    expect([...choices.chosen].sort()).toEqual(['t:2', 't:3', 't:5', 'u:1']);
    // The next send starts afresh.
    choices.begin([{ topic: 't', messages: [{ value: 'e' }] }]);
    choices.record('t', 4);
    expect([...choices.chosen]).toEqual(['t:4']);
  });
});
