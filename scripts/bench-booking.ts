/**
 * Booking benchmarks, each figure beside a baseline measured in the same run:
 *
 *   npx tsx scripts/bench-booking.ts [--resources 100000] [--seed 1] [--bookings 20000] [--queries 2000]
 *                                    [--http-bookings 4000] [--concurrency 32] [--workers 1,2] [--skip-http] [--json]
 *
 * - Confirmed bookings per second in process (`Bookings.book`: Idempotency-Key claim, capacity taken in one
 *   UPDATE, visitor and phone HMACs, the answer stored), beside the bare floor of one `BEGIN IMMEDIATE`
 *   transaction holding that one UPDATE. Goal: ≥ 1,000/s.
 * - Confirmed bookings per second over HTTP on loopback (a server process per `--workers` value, autocannon
 *   with `--concurrency` connections, each request its own key and visitor), beside `GET /healthz` with the
 *   same client in the same run.
 * - k=10 nearest with "3 free seats tomorrow afternoon" (the availability index inside the kNN scan) beside
 *   the plain k=10 nearest on the same points; and the same availability query when a booking lands between
 *   every two queries (what keeping the index fresh costs).
 *
 * Data: `generateRows` (seeded), imported into a temporary database; every resource gets 2 slots a day for
 * 7 days, and about 70 % of them are then filled, so that availability is a real filter. The timed bookings
 * go to 1,000 slots (of 1,000 resources, a day later) with room for a million, each with its own visitor.
 * `runBookingBench(options)` returns the figures for `npm run bench`.
 */
import { spawn } from 'node:child_process';
import autocannon from 'autocannon';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../src/config.js';
import { openStore, type Database } from '../src/store/db.js';
import { SqliteDatabase } from '../src/store/sqlite.js';
import { loadTaxonomy } from '../src/taxonomy/taxonomy.js';
import { AreaIndex } from '../src/geo/areas.js';
import { AreaStore } from '../src/store/areas.js';
import { SnapshotHolder } from '../src/engine/holder.js';
import { search } from '../src/engine/search.js';
import { importCsv } from '../src/import/csv.js';
import { seedDistricts } from '../src/service.js';
import { Bookings, type BookingRequest } from '../src/booking/bookings.js';
import { Audit } from '../src/access/audit.js';
import type { Need } from '../src/engine/params.js';
import type { NewSlot } from '../src/store/slots.js';
import { createRandom, csvChunks, generateRows, loadWorld } from './gen.js';
import { quantiles } from './harness.js';

/** The bench's own throwaway secrets (its database is deleted after the run). */
const BENCH_HASH_KEY = 'bench-booking-hash-key-0123456789abcdef';
const BENCH_DATA_KEY = 'b2'.repeat(32);

/** Options of `runBookingBench`; every one has a default. */
export interface BookingBenchOptions {
  /** Generated resources (each with 14 slots). */
  resources?: number;
  seed?: number;
  /** Bookings made in process. */
  bookings?: number;
  /** Nearest queries timed per variant. */
  queries?: number;
  /** Bookings made over HTTP per worker setting. */
  httpBookings?: number;
  /** Requests in flight over HTTP. */
  concurrency?: number;
  /** WORKERS values of the HTTP runs. */
  workers?: number[];
  skipHttp?: boolean;
  /** Progress and figures on stdout (default true). */
  print?: boolean;
}

/** Latency in µs. */
export interface Latency { p50_us: number; p99_us: number; n: number }

/** What `runBookingBench` measured. */
export interface BookingBenchResult {
  dataset: { resources: number; slots: number; seed: number };
  machine: { cores: number; cpu: string; node: string };
  in_process: { bookings: number; confirmed_per_s: number; baseline_one_update_txn_per_s: number; goal_per_s: number };
  http: { workers: number; concurrency: number; bookings: number; confirmed_per_s: number; p50_ms: number; p99_ms: number; errors: number;
    statuses: Record<string, number>; baseline_healthz_rps: number }[];
  nearest_k10: { plain: Latency; available_3_seats: Latency; available_with_a_booking_between_queries: Latency; linear_baseline_note: string };
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Runs every booking benchmark and returns the figures (printing them as it goes unless `print: false`). */
export async function runBookingBench(options: BookingBenchOptions = {}): Promise<BookingBenchResult> {
  const o = {
    resources: 100_000, seed: 1, bookings: 20_000, queries: 2_000, httpBookings: 4_000, concurrency: 32, workers: [1, 2],
    skipHttp: false, print: true,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  };
  const say = (text: string) => o.print && console.log(text);
  const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version };
  say(`booking bench: ${o.resources.toLocaleString()} resources (seed ${o.seed}), ${machine.cores} cores (${machine.cpu}), Node ${machine.node}`);

  const dir = mkdtempSync(join(tmpdir(), 'edumap-bench-booking-'));
  const dbPath = join(dir, 'bench.db');
  try {
    const db = await openStore(dbPath);
    const started = performance.now();
    await load(db, o.resources, o.seed);
    const holder = new SnapshotHolder(db, loadTaxonomy(join(ROOT, 'taxonomy')));
    const view = await holder.rebuild();
    const snap = view.base;
    const ids = Array.from({ length: snap.size }, (_, i) => snap.idOf(i));
    const bookings = new Bookings(db, holder, new Audit(db), { hashKey: BENCH_HASH_KEY, cancelCutoffHours: 2 });
    const day0 = Date.parse(`${new Date(Date.now() + 8 * HOUR + DAY).toISOString().slice(0, 10)}T00:00:00+08:00`);
    const slots = await addSlots(db, bookings, ids, day0, o.seed);
    // Start the timed writes without the set-up's WAL to checkpoint.
    await (db as SqliteDatabase).exclusive((raw) => raw.pragma('wal_checkpoint(TRUNCATE)'));
    say(`  data ready in ${((performance.now() - started) / 1000).toFixed(1)} s: ${slots.toLocaleString()} slots, ~70 % of them then filled`);

    // --- Nearest, plain and availability-aware, on the same query points.
    const rand = createRandom(o.seed + 1);
    const points = Array.from({ length: o.queries }, () => [snap.lng[Math.floor(rand() * snap.size)] + (rand() - 0.5) * 0.02,
      snap.lat[Math.floor(rand() * snap.size)] + (rand() - 0.5) * 0.02] as [number, number]);
    const need: Need = { fromMs: day0 + 13 * HOUR, toMs: day0 + 18 * HOUR, seats: 3, kind: 'individual' };
    await bookings.availability.refresh(); // the first full load is start-up work, not a query's
    const plain = await latency(points, (near) => search(view, { near, limit: 10 }));
    const available = await latency(points, async (near) => {
      await bookings.availability.refresh();
      return search(view, { near, limit: 10, accept: (s) => bookings.availability.acceptFor(s, need) });
    });
    const targets = await bookingTargets(db, bookings, ids, day0 + DAY);
    let n = 0;
    const busy = await latency(points, async (near) => {
      // A booking by "another request" between two queries: the next query reads the one slot that moved.
      await db.tx((t) => bookings.slots.take(t, targets[n++ % targets.length], 'individual', 1));
      const t = performance.now();
      await bookings.availability.refresh();
      search(view, { near, limit: 10, accept: (s) => bookings.availability.acceptFor(s, need) });
      return performance.now() - t;
    }, true);
    say(`  k=10 nearest, plain:                               p50 ${plain.p50_us} µs  p99 ${plain.p99_us} µs`);
    say(`  k=10 nearest with 3 free seats tomorrow afternoon: p50 ${available.p50_us} µs  p99 ${available.p99_us} µs  (${ratio(available.p50_us, plain.p50_us)} of plain p50)`);
    say(`    … with a booking landing between every two:     p50 ${busy.p50_us} µs  p99 ${busy.p99_us} µs`);

    // --- Confirmed bookings per second in process, beside the bare one-UPDATE transaction.
    const floorCount = Math.min(o.bookings, 20_000);
    let t = performance.now();
    for (let k = 0; k < floorCount; k++) await db.tx((tx) => bookings.slots.take(tx, targets[k % targets.length], 'individual', 1));
    const floorPerS = floorCount / ((performance.now() - t) / 1000);
    for (let k = 0; k < floorCount; k++) await db.tx((tx) => bookings.slots.give(tx, targets[k % targets.length], 'individual', 1));
    let confirmed = 0;
    t = performance.now();
    for (let k = 0; k < o.bookings; k++) {
      const outcome = await bookings.book(bookingRequest(targets[k % targets.length], k), `bench-${k}`);
      if (outcome.booking) confirmed++;
    }
    const perS = confirmed / ((performance.now() - t) / 1000);
    say(`  confirmed bookings in process: ${Math.round(perS).toLocaleString()}/s (${confirmed.toLocaleString()} of ${o.bookings.toLocaleString()})`
      + `  | bare BEGIN IMMEDIATE + one UPDATE: ${Math.round(floorPerS).toLocaleString()}/s | goal 1,000/s`);
    await db.close();

    // --- Over HTTP.
    const http: BookingBenchResult['http'] = [];
    if (!o.skipHttp) {
      for (const workers of o.workers) {
        const figures = await overHttp(dbPath, workers, o.httpBookings, o.concurrency, targets, o.bookings);
        http.push(figures);
        say(`  confirmed bookings over HTTP, WORKERS=${workers}, ${o.concurrency} in flight: ${Math.round(figures.confirmed_per_s).toLocaleString()}/s`
          + ` (p50 ${figures.p50_ms} ms, p99 ${figures.p99_ms} ms, statuses ${JSON.stringify(figures.statuses)}) | GET /healthz same client: ${Math.round(figures.baseline_healthz_rps).toLocaleString()} req/s`);
      }
    }
    return {
      dataset: { resources: snap.size, slots, seed: o.seed },
      machine,
      in_process: { bookings: o.bookings, confirmed_per_s: Math.round(perS), baseline_one_update_txn_per_s: Math.round(floorPerS), goal_per_s: 1000 },
      http,
      nearest_k10: {
        plain, available_3_seats: available, available_with_a_booking_between_queries: busy,
        linear_baseline_note: 'plain k=10 nearest on the same snapshot and points is the baseline',
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Districts and `count` generated resources. */
async function load(db: Database, count: number, seed: number): Promise<void> {
  await seedDistricts(db, join(ROOT, 'data'));
  await importCsv(Readable.from(csvChunks(generateRows(count, seed, loadWorld()))),
    { db, tax: loadTaxonomy(join(ROOT, 'taxonomy')), areas: new AreaIndex(await new AreaStore(db).list()) });
}

/** Two slots a day for 7 days on every resource (09–12, 14–17); then ~70 % filled. Returns the number of slots. */
async function addSlots(db: Database, bookings: Bookings, ids: readonly string[], day0: number, seed: number): Promise<number> {
  const rand = createRandom(seed + 2);
  const store = bookings.slots;
  let total = 0;
  for (let from = 0; from < ids.length; from += 5_000) {
    await db.tx(async (t) => {
      const batch: NewSlot[] = [];
      for (const resourceId of ids.slice(from, from + 5_000)) {
        for (let d = 0; d < 7; d++) {
          for (const h of [9, 14]) {
            batch.push({ resourceId, startMs: day0 + d * DAY + h * HOUR, endMs: day0 + d * DAY + (h + 3) * HOUR,
              capacityIndividual: 5 + Math.floor(rand() * 26), capacityGroup: rand() < 0.5 ? 0 : 60, groupMin: 15, groupMax: 60 });
          }
        }
      }
      for (const s of await store.insert(t, batch, 'bench')) {
        if (rand() < 0.7) await store.take(t, s.id, 'individual', s.capacity_individual - Math.floor(rand() * 3));
      }
      total += batch.length;
    });
  }
  return total;
}

/** One slot with room for a million on `day` (inside the default 7-day booking window), 10:00–11:00, for each of the first 1,000 resources: bench targets. */
async function bookingTargets(db: Database, bookings: Bookings, ids: readonly string[], day: number): Promise<number[]> {
  const slots: NewSlot[] = ids.slice(0, 1_000).map((resourceId) => ({
    resourceId, startMs: day + 10 * HOUR, endMs: day + 11 * HOUR, capacityIndividual: 1_000_000, capacityGroup: 0, groupMin: 15, groupMax: 200,
  }));
  return (await db.tx((t) => bookings.slots.insert(t, slots, 'bench'))).map((s) => s.id);
}

/** Booking k: one person, a distinct phone and visitor ID. */
export function bookingRequest(slotId: number, k: number): BookingRequest {
  const birth = new Date(Date.UTC(2012, 0, 1) + (k % 3650) * DAY).toISOString().slice(0, 10).replace(/-/g, '');
  const body = `110108${birth}${String(Math.floor(k / 3650) % 1000).padStart(3, '0')}`;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...body].reduce((s, c, i) => s + Number(c) * weights[i], 0);
  return {
    slot_id: slotId, kind: 'individual', party_size: 1,
    contact: { name: '家长', phone: `139${String(k).padStart(8, '0')}` }, visitor_ids: [body + '10X98765432'[sum % 11]],
  };
}

/** p50/p99 of `fn` over the inputs after a warm-up; `timed`: fn returns its own duration in ms. */
async function latency<T>(inputs: T[], fn: (x: T) => unknown, timed = false): Promise<Latency> {
  for (let k = 0; k < Math.min(200, inputs.length); k++) await fn(inputs[k]);
  const times: number[] = [];
  for (const x of inputs) {
    const t = performance.now();
    const own = await fn(x);
    times.push(timed ? (own as number) : performance.now() - t);
  }
  const { p50, p99 } = quantiles(times.map((ms) => ms * 1000));
  return { p50_us: p50, p99_us: p99, n: times.length };
}

function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}×`;
}

/** Starts a server process on the bench database, books over HTTP, and times GET /healthz with the same client (autocannon). */
async function overHttp(dbPath: string, workers: number, count: number, concurrency: number, targets: number[], offset: number) {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT, stdio: 'ignore',
    env: { PATH: process.env.PATH, EDUMAP_DB: dbPath, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', WORKERS: String(workers),
      EDUMAP_RATE_BOOKING_PER_MIN: '0', EDUMAP_RATE_SEARCH_PER_MIN: '0', EDUMAP_HASH_KEY: BENCH_HASH_KEY, EDUMAP_DATA_KEY: BENCH_DATA_KEY }, // one client stands for many
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    for (const deadline = Date.now() + 120_000; ;) {
      if (child.exitCode !== null) throw new Error('the bench server exited');
      if (Date.now() > deadline) throw new Error('the bench server did not become ready');
      if (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 1000 * workers)); // let every worker finish its start
    // autocannon: a client light enough not to be the bottleneck on a small machine (fetch was, at ~0.7 ms of CPU a request).
    const base = offset + workers * 1_000_000;
    let k = 0;
    const book = (amount: number) => autocannon({
      url, connections: concurrency, amount,
      requests: [{
        method: 'POST',
        setupRequest: (req) => {
          const n = base + k++;
          return { ...req, path: '/v1/bookings', headers: { 'content-type': 'application/json', 'idempotency-key': `http-${n}` },
            body: JSON.stringify(bookingRequest(targets[n % targets.length], n)) };
        },
      }],
    });
    await book(Math.min(200, count)); // warm-up
    const booked = await book(count);
    const health = await autocannon({ url: `${url}/healthz`, connections: concurrency, amount: count });
    const seconds = (r: autocannon.Result) => r.duration; // s
    return {
      workers, concurrency, bookings: count,
      confirmed_per_s: Math.round(booked['2xx'] / seconds(booked)), p50_ms: booked.latency.p50, p99_ms: booked.latency.p99,
      errors: booked.errors + booked.non2xx, statuses: { '2xx': booked['2xx'], non2xx: booked.non2xx, errors: booked.errors },
      baseline_healthz_rps: Math.round(health['2xx'] / seconds(health)),
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      resources: { type: 'string' }, seed: { type: 'string' }, bookings: { type: 'string' }, queries: { type: 'string' },
      'http-bookings': { type: 'string' }, concurrency: { type: 'string' }, workers: { type: 'string' },
      'skip-http': { type: 'boolean', default: false }, json: { type: 'boolean', default: false },
    },
  });
  const int = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const result = await runBookingBench({
    resources: int(values.resources), seed: int(values.seed), bookings: int(values.bookings), queries: int(values.queries),
    httpBookings: int(values['http-bookings']), concurrency: int(values.concurrency),
    workers: values.workers?.split(',').map(Number), skipHttp: values['skip-http'], print: !values.json,
  });
  if (values.json) console.log(JSON.stringify(result, null, 2));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2));
}
