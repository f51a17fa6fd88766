import { Metrics } from './metrics.js';

describe('Metrics', () => {
  it('keeps the metrics each lib defines in its own registry, beside the default ones', async () => {
    const a = new Metrics();
    const b = new Metrics();
    a.counter({ name: 'datarun_test_total', help: 'counted', labelNames: ['outcome'] }).inc({ outcome: 'ok' }, 2);
    a.gauge({ name: 'datarun_test_backlog', help: 'waiting' }).set(3);
    a.histogram({ name: 'datarun_test_seconds', help: 'took', buckets: [1] }).observe(0.5);
    const text = await a.registry.metrics();
    expect(text).toMatch(/^datarun_test_total\{outcome="ok"\} 2$/m);
    expect(text).toMatch(/^datarun_test_backlog 3$/m);
    expect(text).toMatch(/^datarun_test_seconds_count 1$/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    // A second app instance in the same process defines the same names without a clash.
    expect(() => b.counter({ name: 'datarun_test_total', help: 'counted' })).not.toThrow();
    expect(await b.registry.metrics()).not.toContain('datarun_test_backlog');
  });
});
