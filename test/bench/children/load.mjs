// Load generator for test/bench (a separate process from the apps it measures): autocannon as a
// library. Receives one spec over IPC, runs a warm-up and then the measured run, and reports both.
// Plain JavaScript so that the Jest smoke and the built bench spawn the very same file.
//   spec: { url, method, path, headers, bodies?: string[], connections, warmupSeconds, durationSeconds }
import autocannon from 'autocannon';

function run(spec, seconds, next) {
  const request = { method: spec.method, path: spec.path };
  if (spec.bodies?.length) request.setupRequest = (req) => ({ ...req, body: spec.bodies[next() % spec.bodies.length] });
  return new Promise((resolve, reject) => {
    autocannon(
      { url: spec.url, connections: spec.connections, duration: seconds, timeout: 30, headers: spec.headers ?? {}, requests: [request] },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}

function summary(r, seconds) {
  const l = r.latency;
  return {
    sent: r.requests.sent,
    completed: r.requests.total,
    seconds: r.duration ?? seconds,
    requestsPerSecond: r.requests.total / (r.duration || seconds),
    latencyMs: { mean: l.average, p50: l.p50, p90: l.p90, p99: l.p99, p99_9: l.p99_9, max: l.max },
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    resets: r.resets,
    statusCodes: r.statusCodeStats,
  };
}

process.once('message', async (spec) => {
  try {
    let i = 0;
    const next = () => i++;
    const warm = spec.warmupSeconds > 0 ? summary(await run(spec, spec.warmupSeconds, next), spec.warmupSeconds) : null;
    process.send({ type: 'measure-start' });
    const measured = summary(await run(spec, spec.durationSeconds, next), spec.durationSeconds);
    process.send({ type: 'done', warm, measured }, () => process.exit(0));
  } catch (error) {
    process.send({ type: 'error', message: String(error?.stack ?? error) }, () => process.exit(1));
  }
});
