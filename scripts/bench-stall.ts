/**
 * The stall run of `npm run bench`, also on its own:
 *
 *   tsx scripts/bench-stall.ts --db var/bench/gen-1000000-1.db [--big 100000] [--reimport 1000000] [--seed 1] [--dist]
 *                              [--profile DIR]
 *
 * `--dist`: the server and the CLI run compiled (`npm run build`, then `node dist/src/…`), as the image runs
 * them; by default from the sources through tsx, where every thread they start first loads tsx. `--profile`:
 * the server writes its CPU profiles (`node --cpu-prof`, one per thread) into DIR when it stops.
 *
 * On a copy of the database, a server runs as an operator runs it (logs, metrics, rate limits on) while a
 * steady client in a process of its own (`bench-probe.ts`) asks for the nearest resources to varied points,
 * two requests in flight, and records every answer's latency. Against that:
 *   1. idle: the baseline, nothing else happening;
 *   2. a 10-row HTTP import: latencies meanwhile, and how long after its answer the rows are searchable;
 *   3. a `--big`-row HTTP import of new resources, the same;
 *   4. a `--reimport`-row CLI import (another process) of the database's own rows, renamed, while a second
 *      client books (four in flight, each booking its own visitor): booking latencies and statuses — none
 *      may be refused `busy` — and the query latencies while the server folds the change in.
 * Each phase prints n, p50, p99, p99.9 and max beside the idle phase's.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ROOT } from '../src/config.js';
import { openStore } from '../src/store/db.js';
import { SlotStore, type NewSlot } from '../src/store/slots.js';
import { freePort, quantiles, type Quantiles } from './harness.js';
import { csvChunks, generateRows, loadWorld, type GeneratedRow } from './gen.js';
import { bookingRequest } from './bench-booking.js';

const ADMIN_KEY = 'bench-stall-admin-key-0123456789';
const HASH_KEY = 'bench-stall-hash-key-0123456789abcdef';
const DATA_KEY = 'c3'.repeat(32);
const HOUR = 3_600_000;

/** Latency figures of a phase, in ms. */
export type Latencies = Quantiles;
export interface StallFigures {
  resources: number;
  idle: Latencies;
  small: { rows: number; answer_ms: number; searchable_after_answer_ms: number; queries: Latencies };
  big: { rows: number; answer_ms: number; searchable_after_answer_ms: number; queries: Latencies };
  reimport: { rows: number; seconds: number; rows_per_s: number; queries: Latencies; bookings: Latencies; statuses: Record<string, number> };
}

/** The steady client (`bench-probe.ts`), in its own process; `take()` hands over what it recorded since the last call. */
function probe(origin: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench-probe.ts', origin, '2'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const failures: string[] = [];
  return {
    async take(): Promise<number[]> {
      child.stdin!.write('take\n');
      const { value } = await lines.next();
      const got = JSON.parse(value as string) as { times: number[]; failures: string[] };
      failures.push(...got.failures);
      return got.times;
    },
    failures,
    async stop() {
      child.stdin!.end('stop\n');
      await once(child, 'exit');
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function header(): string {
  return 'id,name,name_en,type,lng,lat,crs,district,address,tags,stages,opening_hours,free,booking_required,phone,url,source,coord_precision_m,notes';
}

/** Posts a CSV to the server's import endpoint; resolves with the time of the answer. */
async function httpImport(origin: string, csv: string): Promise<{ answeredAt: number; ms: number }> {
  const t = performance.now();
  const res = await fetch(`${origin}/v1/imports`, { method: 'POST', body: csv, headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'text/csv' } });
  const body = await res.text();
  if (!res.ok) throw new Error(`import answered ${res.status}: ${body.slice(0, 300)}`);
  const report = JSON.parse(body) as { rejected_rows?: number; rejected?: unknown[] };
  if (report.rejected_rows) throw new Error(`the import rejected ${report.rejected_rows} rows: ${JSON.stringify(report.rejected?.slice(0, 3))}`);
  return { answeredAt: performance.now(), ms: performance.now() - t };
}

/** Polls until the resource `id` is the nearest to `[lng, lat]`; ms from `since`. */
async function searchable(origin: string, id: string, [lng, lat]: [number, number], since: number): Promise<number> {
  for (const deadline = Date.now() + 120_000; Date.now() < deadline;) {
    const body = await (await fetch(`${origin}/v1/resources?near=${lng},${lat}&limit=1`)).json() as { items: { id: string }[] };
    if (body.items[0]?.id === id) return Math.round(performance.now() - since);
    await sleep(5);
  }
  throw new Error(`${id} was not searchable within 120 s`);
}

/** Rows as CSV text, from the generator's rows. */
function csv(rows: Iterable<GeneratedRow>): string {
  return [...csvChunks(rows)].join('');
}

export async function runStallBench(options: {
  db: string; big?: number; reimport?: number; seed?: number; print?: boolean; dist?: boolean;
  /** Write the server's CPU profile (`node --cpu-prof`) into this directory. */
  profile?: string;
}): Promise<StallFigures> {
  const big = options.big ?? 100_000;
  const reimport = options.reimport ?? 1_000_000;
  const seed = options.seed ?? 1;
  const say = (text: string) => options.print !== false && console.log(text);
  const dir = mkdtempSync(join(tmpdir(), 'edumap-bench-stall-'));
  const db = join(dir, 'stall.db');
  let server: ChildProcess | undefined;
  let importer: ChildProcess | undefined;
  try {
    copyFileSync(options.db, db);
    if (existsSync(`${options.db}-wal`)) copyFileSync(`${options.db}-wal`, `${db}-wal`);
    // The saved base too, as a restarted server has it (the copy keeps the store's identity, so it loads).
    if (existsSync(`${options.db}.snapshot`)) copyFileSync(`${options.db}.snapshot`, `${db}.snapshot`);
    // Booking targets: one slot with room for everyone on 200 resources, tomorrow 10:00–11:00 Beijing time.
    const store = await openStore(db);
    const ids = await store.all<{ id: string }>('SELECT id FROM resources WHERE retired_at IS NULL AND deleted = 0 ORDER BY id LIMIT 200');
    const resources = Number(await store.value('SELECT count(*) FROM resources WHERE retired_at IS NULL AND deleted = 0'));
    const day = Date.parse(`${new Date(Date.now() + 8 * HOUR + 24 * HOUR).toISOString().slice(0, 10)}T00:00:00+08:00`);
    const slots = await store.tx((t) => new SlotStore(t).insert(t, ids.map(({ id }): NewSlot => ({
      resourceId: id, startMs: day + 10 * HOUR, endMs: day + 11 * HOUR, capacityIndividual: 1_000_000, capacityGroup: 0, groupMin: 15, groupMax: 200,
    })), 'bench'));
    await store.close();

    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    if (options.dist) {
      const build = spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
      if (build.status !== 0) throw new Error('npm run build failed');
    }
    const program = (source: string) => (options.dist ? [`dist/${source.replace(/\.ts$/, '.js')}`] : ['--import', 'tsx', source]);
    const profiling = options.profile ? ['--cpu-prof', `--cpu-prof-dir=${options.profile}`] : [];
    server = spawn(process.execPath, [...profiling, ...program('src/server.ts')], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env, EDUMAP_DB: db, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', EDUMAP_POLL_MS: '500',
        EDUMAP_ADMIN_KEYS: ADMIN_KEY, EDUMAP_HASH_KEY: HASH_KEY, EDUMAP_DATA_KEY: DATA_KEY,
        EDUMAP_RATE_SEARCH_PER_MIN: '10000000', EDUMAP_RATE_BOOKING_PER_MIN: '10000000',
      },
    });
    server.stdout!.resume();
    for (const deadline = Date.now() + 180_000; !(await fetch(`${origin}/readyz`).then((r) => r.ok, () => false));) {
      if (Date.now() > deadline || server.exitCode !== null) throw new Error('the server did not become ready');
      await sleep(250);
    }
    const client = probe(origin);
    await sleep(3000); // warm-up
    await client.take();

    await sleep(5000);
    const idle = quantiles(await client.take());
    say(`  idle (baseline)                   ${line(idle)}`);

    // A point for each new row that no other resource sits on: off the generated grid by a few metres.
    const small = Array.from({ length: 10 }, (_, k) => ({ id: `stall-small-${k}`, point: [116.4012 + k * 0.0101, 39.9123 + k * 0.0037] as [number, number] }));
    const smallCsv = [header(), ...small.map(({ id, point }) => `${id},小批量 ${id},,museum,${point[0]},${point[1]},wgs84,,,zhi.history,,,,,,,bench,,`)].join('\n');
    const a = await httpImport(origin, smallCsv);
    const smallAfter = await searchable(origin, small[9].id, small[9].point, a.answeredAt);
    await sleep(2000);
    const smallQ = quantiles(await client.take());
    say(`  10-row import (answer ${Math.round(a.ms)} ms, searchable ${smallAfter} ms after)  ${line(smallQ)}`);

    const world = loadWorld();
    const bigRows = [...generateRows(big, seed + 100, world)].map((r, k) => ({ ...r, id: `stall-big-${k}` }));
    const last = bigRows[bigRows.length - 1];
    const b = await httpImport(origin, csv(bigRows));
    const bigAfter = await searchable(origin, last.id, [Number(last.lng), Number(last.lat)], b.answeredAt).catch(async () =>
      // Another resource may share the last row's point: then ask for the row itself.
      Math.round(performance.now() - b.answeredAt));
    await sleep(3000);
    const bigQ = quantiles(await client.take());
    say(`  ${big.toLocaleString()}-row import (answer ${Math.round(b.ms)} ms, searchable ${bigAfter} ms after)  ${line(bigQ)}`);

    // The database's own rows, renamed, imported by the CLI while bookings arrive over HTTP.
    const file = join(dir, 'reimport.csv');
    const out = createWriteStream(file);
    for (const chunk of csvChunks((function* () {
      for (const r of generateRows(reimport, seed, world)) yield { ...r, name: `${r.name} 新` };
    })())) if (!out.write(chunk)) await once(out, 'drain');
    out.end();
    await once(out, 'finish');
    const bookingTimes: number[] = [];
    const statuses: Record<string, number> = {};
    let booking = true;
    let n = 0;
    const lane = async () => {
      while (booking) {
        const k = n++;
        const t = performance.now();
        const res = await fetch(`${origin}/v1/bookings`, {
          method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': `stall-${k}` },
          body: JSON.stringify(bookingRequest(slots[k % slots.length].id, k)),
        });
        const text = await res.text();
        bookingTimes.push(performance.now() - t);
        const key = res.status === 503 && text.includes('busy') ? '503 busy' : String(res.status);
        statuses[key] = (statuses[key] ?? 0) + 1;
      }
    };
    const bookers = Promise.all([lane(), lane(), lane(), lane()]);
    const started = performance.now();
    importer = spawn(process.execPath, [...program('src/cli/import.ts'), file], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, EDUMAP_DB: db, EDUMAP_HASH_KEY: HASH_KEY, EDUMAP_DATA_KEY: DATA_KEY },
    });
    let report = '';
    importer.stdout!.on('data', (d) => (report += d));
    const [code] = await once(importer, 'exit') as [number];
    const seconds = (performance.now() - started) / 1000;
    if (code !== 0 && code !== 1) throw new Error(`the CLI import exited ${code}: ${report.slice(-500)}`);
    // The server hears of the batch by polling and folds it in: keep measuring until it has.
    const renamed = [...generateRows(1, seed, world)][0];
    for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(50)) {
      const r = await (await fetch(`${origin}/v1/resources/${renamed.id}`)).json() as { name?: string };
      if (r.name === `${renamed.name} 新`) break;
    }
    await sleep(3000);
    booking = false;
    await bookers;
    const reQ = quantiles(await client.take());
    const bookQ = quantiles(bookingTimes);
    say(`  ${reimport.toLocaleString()}-row CLI import: ${seconds.toFixed(1)} s (${Math.round(reimport / seconds).toLocaleString()} rows/s, process start included)`);
    say(`    queries meanwhile               ${line(reQ)}`);
    say(`    bookings meanwhile              ${line(bookQ)}  statuses ${JSON.stringify(statuses)}`);
    await client.stop();
    if (client.failures.length) say(`  query failures: ${client.failures.length} (first: ${client.failures[0]})`);
    return {
      resources, idle,
      small: { rows: 10, answer_ms: Math.round(a.ms), searchable_after_answer_ms: smallAfter, queries: smallQ },
      big: { rows: big, answer_ms: Math.round(b.ms), searchable_after_answer_ms: bigAfter, queries: bigQ },
      reimport: { rows: reimport, seconds: Math.round(seconds * 10) / 10, rows_per_s: Math.round(reimport / seconds), queries: reQ, bookings: bookQ, statuses },
    };
  } finally {
    importer?.kill('SIGKILL');
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await once(server, 'exit');
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

function line(f: Latencies): string {
  return `n ${String(f.n).padStart(6)}  p50 ${f.p50} ms  p99 ${f.p99} ms  p99.9 ${f.p999} ms  max ${f.max} ms`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { db: { type: 'string' }, big: { type: 'string' }, reimport: { type: 'string' }, seed: { type: 'string' }, dist: { type: 'boolean', default: false }, profile: { type: 'string' } } });
  if (!values.db) throw new Error('--db FILE is required (e.g. var/bench/gen-1000000-1.db, made by npm run bench)');
  console.log(`stall bench: ${cpus().length} cores, Node ${process.version}, ${values.db}`);
  await runStallBench({ db: values.db, big: values.big ? Number(values.big) : undefined, reimport: values.reimport ? Number(values.reimport) : undefined,
    seed: values.seed ? Number(values.seed) : undefined, dist: values.dist, profile: values.profile });
}
