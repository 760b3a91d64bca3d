/**
 * The HTTP run of `npm run bench`, also on its own:
 *
 *   tsx scripts/bench-http.ts --db var/bench/gen-1000000-1.db [--seconds 10] [--connections 10]
 *
 * Four servers answer in turn, each pinned to core 0 while this process (autocannon) runs on core 1 (when
 * the machine has two cores and `taskset`): express hello-world; an express server answering the same
 * query points from a bare geokdbush index, ids only (`bench-bare-server.ts`); and edumap as an operator
 * runs it — request logs at info, metrics, security headers and rate limits on (the limit set far above
 * what one loopback client sends, so that every request still counts against it) — on `/healthz` and on
 * `GET /v1/resources?near=…&limit=10` with full records, each run once its record cache holds every record
 * (its steady state, `edumap_record_cache_warm` on /metrics: a run meanwhile measures the warm-up's reads). Every request of a run asks for another point.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { ROOT } from '../src/config.js';
import { freePort } from './harness.js';

export interface HttpFigure { rps: number; p50_ms: number; p99_ms: number; errors: number; non2xx: number }
export interface HttpFigures {
  pinned: boolean;
  connections: number;
  seconds: number;
  hello: HttpFigure;
  bare: HttpFigure;
  healthz: HttpFigure;
  nearest: HttpFigure;
  /** edumap nearest req/s ÷ bare geokdbush req/s, and p99 ÷ p99. */
  rps_ratio: number;
  p99_ratio: number;
}

const canPin = cpus().length >= 2 && spawnSync('taskset', ['-V']).status === 0;

/** Starts `args` (a node script under tsx) on core 0 when pinning is possible. */
function server(args: string[], env: Record<string, string> = {}): ChildProcess {
  const node = [process.execPath, '--import', 'tsx', ...args];
  const [cmd, ...rest] = canPin ? ['taskset', '-c', '0', ...node] : node;
  const child = spawn(cmd, rest, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  child.stdout!.resume(); // logs go nowhere, as fast as the server writes them
  return child;
}

async function waitFor(url: string, child: ChildProcess, ms = 180_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`the server for ${url} exited (${child.exitCode})`);
    try {
      if ((await fetch(url)).ok) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not come up within ${ms} ms`);
}

/** Waits until edumap's /metrics says every record of the snapshot is in its record cache (the steady state). */
async function recordsWarm(origin: string, child: ChildProcess, ms = 300_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`the server at ${origin} exited (${child.exitCode})`);
    if (/^edumap_record_cache_warm 1$/m.test(await (await fetch(`${origin}/metrics`)).text())) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${origin}: the record cache was not warm within ${ms} ms`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function cannon(origin: string, seconds: number, connections: number, paths: string[]): Promise<HttpFigure> {
  let k = 0;
  const result = await autocannon({
    url: origin, connections, duration: seconds,
    requests: [{ setupRequest: (req) => ({ ...req, path: paths[k++ % paths.length] }) }],
  });
  return { rps: Math.round(result.requests.average), p50_ms: result.latency.p50, p99_ms: result.latency.p99, errors: result.errors, non2xx: result.non2xx };
}

/** Runs the four servers in turn on the query points; throws when edumap answers anything but 2xx. */
export async function runHttpBench(options: { db: string; points: [number, number][]; seconds?: number; connections?: number }): Promise<HttpFigures> {
  const seconds = options.seconds ?? 10;
  const connections = options.connections ?? 10;
  if (canPin) spawnSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
  const near = options.points.map(([lng, lat]) => `/v1/resources?near=${lng.toFixed(5)},${lat.toFixed(5)}&limit=10`);
  const run = async (child: ChildProcess, origin: string, ready: string, paths: string[], warm = paths, records = false): Promise<HttpFigure> => {
    try {
      await waitFor(origin + ready, child);
      if (records) await recordsWarm(origin, child);
      await cannon(origin, 2, connections, warm); // warm-up: JIT, caches, connections
      return await cannon(origin, seconds, connections, paths);
    } finally {
      await stop(child);
    }
  };
  const at = async () => { const port = await freePort(); return { port, origin: `http://127.0.0.1:${port}` }; };

  let s = await at();
  const hello = await run(server(['scripts/bench-http.ts', '--hello', String(s.port)]), s.origin, '/', ['/']);
  s = await at();
  const bare = await run(server(['scripts/bench-bare-server.ts', options.db, String(s.port)]), s.origin, '/v1/resources?near=116.4,39.9&limit=1', near);
  const edumapEnv = {
    EDUMAP_DB: options.db, HOST: '127.0.0.1', LOG_LEVEL: 'info', EDUMAP_POLL_MS: '0',
    EDUMAP_RATE_SEARCH_PER_MIN: '10000000', EDUMAP_RATE_BOOKING_PER_MIN: '10000000',
    // The bench's own throwaway secrets: it only reads.
    EDUMAP_HASH_KEY: 'bench-http-hash-key-0123456789abcdef', EDUMAP_DATA_KEY: 'd4'.repeat(32),
  };
  s = await at();
  const healthz = await run(server(['src/server.ts'], { ...edumapEnv, PORT: String(s.port) }), s.origin, '/readyz', ['/healthz'], near, true);
  s = await at();
  const nearest = await run(server(['src/server.ts'], { ...edumapEnv, PORT: String(s.port) }), s.origin, '/readyz', near, near, true);
  if (nearest.non2xx || nearest.errors) throw new Error(`edumap answered ${nearest.non2xx} non-2xx and ${nearest.errors} errors`);
  return {
    pinned: canPin, connections, seconds, hello, bare, healthz, nearest,
    rps_ratio: Math.round((nearest.rps / bare.rps) * 100) / 100,
    p99_ratio: Math.round((nearest.p99_ms / Math.max(bare.p99_ms, 1)) * 100) / 100,
  };
}

/** The figures as `npm run bench` prints them. */
export function printHttp(f: HttpFigures): void {
  const line = (name: string, x: HttpFigure) => console.log(`  ${name.padEnd(40)} ${String(x.rps).padStart(7)} req/s  p50 ${x.p50_ms} ms  p99 ${x.p99_ms} ms  errors ${x.errors}, non-2xx ${x.non2xx}`);
  console.log(`  (${f.connections} connections, ${f.seconds} s each, ${f.pinned ? 'server on core 0, client on core 1' : 'not pinned'})`);
  line('express hello-world', f.hello);
  line('express + bare geokdbush (ids only)', f.bare);
  line('edumap /healthz', f.healthz);
  line('edumap /v1/resources?near=… (records)', f.nearest);
  console.log(`  edumap nearest ÷ bare geokdbush: req/s ${f.rps_ratio} (target ≥ 0.75), p99 ${f.p99_ratio} (target ≤ 1.5)`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { db: { type: 'string' }, seconds: { type: 'string' }, connections: { type: 'string' }, hello: { type: 'string' } } });
  if (values.hello) {
    const { default: express } = await import('express');
    express().get('/', (_q, r) => { r.send('hello world'); }).listen(Number(values.hello), '127.0.0.1');
  } else {
    if (!values.db) throw new Error('--db FILE is required (e.g. var/bench/gen-1000000-1.db, made by npm run bench)');
    const { default: Database } = await import('better-sqlite3');
    const { createRandom } = await import('./gen.js');
    const db = new Database(values.db, { readonly: true });
    const sample = db.prepare('SELECT lng, lat FROM resources WHERE retired_at IS NULL AND deleted = 0 ORDER BY random() LIMIT 5000').raw().all() as [number, number][];
    db.close();
    const rand = createRandom(77);
    // Query points near real resources, jittered by up to ~500 m: varied, and where people are.
    const points = sample.map(([lng, lat]) => [lng + (rand() - 0.5) * 0.01, lat + (rand() - 0.5) * 0.01] as [number, number]);
    const figures = await runHttpBench({ db: values.db, points, seconds: Number(values.seconds ?? 10), connections: Number(values.connections ?? 10) });
    console.log(`HTTP, ${cpus().length} cores, Node ${process.version}, ${values.db}`);
    printHttp(figures);
  }
}
