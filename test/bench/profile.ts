// `npm run bench -- --profile`: where the gateway's CPU goes during the lookups. The gateway runs
// with `node --cpu-prof`; its profile (a .cpuprofile file, which Chrome DevTools' Performance panel
// or https://www.speedscope.app draws as a flame graph) is summarised here by kind of work, over the
// measured window of the lookups, per lookup.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileShare {
  readonly kind: string;
  /** Share of the window's samples, idle included. */
  readonly percent: number;
  readonly microsecondsPerRequest: number;
}

/**
 * The kinds, tried from the innermost frame outwards; the first that matches a frame of the stack
 * takes the sample. A socket write whose stack goes through node-postgres is a write to
 * PostgreSQL: on a busy machine most of its samples are the gateway waiting for its core while the
 * PostgreSQL backend it woke runs there, so it is not all the gateway's own work.
 */
const KINDS: ReadonlyArray<readonly [string, RegExp]> = [
  ['audit log (chain, hashing, append)', /libs\/audit\//],
  ['logging (pino)', /pino|sonic-boom|redact/],
  ['token verification (jose)', /jose|libs\/auth\//],
  ['body validation (ajv)', /ajv|json-body/],
  ['access decision and minimisation', /access-policy/],
  ['PostgreSQL client (pg)', /\/pg\/|pg-protocol|pg-pool|silence-safe|libs\/db\//],
  ['lookup use case', /libs\/lookups\//],
  ['Nest request pipeline', /@nestjs|rxjs|middie|nestjs-cls|request-context/],
  ['HTTP (Fastify, node:http)', /fastify|find-my-way|_http_|node:net|secure-json/],
];
const WRITES = new Set(['writev', 'writeBuffer', 'writeUtf8String', 'writeString']);

/**
 * `from` and `to` in microseconds of the monotonic clock (`process.hrtime.bigint() / 1000n` in any
 * process of the machine): V8 stamps its samples with the same clock on Linux.
 */
export function summariseProfile(path: string, window: { from: number; to: number }, requests: number): ProfileShare[] {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  let clock = profile.startTime;
  const times = profile.timeDeltas.map((d) => (clock += d));
  const kindOf = (id: number): string => {
    const frames: ProfileNode[] = [];
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) frames.push(byId.get(x)!);
    const self = frames[0].callFrame.functionName;
    if (self === '(idle)') return 'idle (waiting for I/O or for a core)';
    if (self === '(garbage collector)') return 'garbage collection';
    const stack = frames.map((f) => `${f.callFrame.url}#${f.callFrame.functionName}`);
    if (WRITES.has(self)) return stack.some((s) => /\/pg\/|silence-safe/.test(s)) ? 'socket writes to PostgreSQL' : 'socket writes to HTTP clients';
    return KINDS.find(([, pattern]) => stack.some((s) => pattern.test(s)))?.[0] ?? 'other (V8, Node internals)';
  };
  const totals = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    if (times[i] < window.from || times[i] > window.to) return;
    const kind = kindOf(id);
    totals.set(kind, (totals.get(kind) ?? 0) + profile.timeDeltas[i]);
    total += profile.timeDeltas[i];
  });
  if (total === 0) throw new Error(`the profile has no samples between ${window.from} and ${window.to} µs: not the same clock?`);
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .map(([kind, micros]) => ({
      kind,
      percent: Math.round((1000 * micros) / total) / 10,
      microsecondsPerRequest: Math.round((10 * micros) / requests) / 10,
    }));
}
