import { setImmediate as tick } from 'node:timers/promises';
import { RequestContext } from './request-context.js';

describe('RequestContext', () => {
  it('is empty outside any request or message', () => {
    expect(RequestContext.correlationId()).toBeUndefined();
    expect(RequestContext.logFields()).toEqual({});
    RequestContext.attachCaller({ memberId: 'zj.hall', role: 'consumer' });
    expect(RequestContext.currentCaller()).toBeUndefined();
  });

  it('keeps each run’s id across awaits, apart from a concurrent run', async () => {
    const seen = await Promise.all(
      ['one', 'two'].map((id) =>
        RequestContext.run(id, async () => {
          await tick();
          RequestContext.attachCaller({ memberId: `member-${id}`, role: 'consumer' });
          await tick();
          return RequestContext.logFields();
        }),
      ),
    );
    expect(seen).toEqual([
      { correlationId: 'one', member: 'member-one' },
      { correlationId: 'two', member: 'member-two' },
    ]);
    expect(RequestContext.correlationId()).toBeUndefined();
  });

  it('does not inherit an enclosing context: a consumed message inside a request is its own', () =>
    RequestContext.run('outer', () => {
      RequestContext.attachCaller({ memberId: 'zj.hall', role: 'consumer' });
      RequestContext.run('inner', () => expect(RequestContext.logFields()).toEqual({ correlationId: 'inner' }));
      expect(RequestContext.correlationId()).toBe('outer');
    }));
});
