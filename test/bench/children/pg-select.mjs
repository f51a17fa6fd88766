// Baseline for test/bench: the plain primary-key select of the same records through `pg`, at a
// given concurrency, from a Node process of its own. Spec over IPC:
//   { connectionString, schema, keys: string[], connections, warmupSeconds, durationSeconds }
import pg from 'pg';

const SQL = "SELECT data FROM source_record WHERE source_id = 'household' AND subject_key = $1";

process.once('message', async (spec) => {
  const pool = new pg.Pool({ connectionString: spec.connectionString, max: spec.connections, options: `-c search_path=${spec.schema}` });
  try {
    let i = 0;
    const runFor = async (seconds, keepLatency) => {
      const latencies = keepLatency ? [] : null;
      let completed = 0;
      let errors = 0;
      const started = performance.now();
      const end = started + seconds * 1000;
      await Promise.all(
        Array.from({ length: spec.connections }, async () => {
          while (performance.now() < end) {
            const key = spec.keys[i++ % spec.keys.length];
            const t0 = performance.now();
            try {
              const res = await pool.query(SQL, [key]);
              if (res.rowCount !== 1) errors++;
            } catch {
              errors++;
            }
            latencies?.push(performance.now() - t0);
            completed++;
          }
        }),
      );
      return { completed, errors, seconds: (performance.now() - started) / 1000, latencies };
    };
    await runFor(spec.warmupSeconds, false);
    process.send({ type: 'measure-start' });
    const m = await runFor(spec.durationSeconds, true);
    const sorted = Float64Array.from(m.latencies).sort();
    const q = (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0);
    const mean = sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1);
    const measured = {
      completed: m.completed,
      seconds: m.seconds,
      requestsPerSecond: m.completed / m.seconds,
      latencyMs: { mean, p50: q(50), p90: q(90), p99: q(99), p99_9: q(99.9), max: sorted[sorted.length - 1] ?? 0 },
      errors: m.errors,
    };
    await pool.end();
    process.send({ type: 'done', measured }, () => process.exit(0));
  } catch (error) {
    process.send({ type: 'error', message: String(error?.stack ?? error) }, () => process.exit(1));
  }
});
