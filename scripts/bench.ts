/**
 * `npm run bench`: edumap's latency and throughput figures, each beside a baseline measured in the same run.
 *
 *   npm run bench -- [--sizes 10000,100000,1000000] [--seed 1] [--queries 2000] [--http-seconds 10]
 *                    [--skip-http] [--skip-stall] [--skip-booking] [--stall-big 100000]
 *
 * Data: `npm run gen` rows (seeded), imported once into var/bench/gen-<n>-<seed>.db and reused (the import's
 * rows/s printed then). In process, k=10 nearest: raw geokdbush on the snapshot's own points, a linear scan,
 * the engine alone (compile + search) and the full pipeline (compile + search + the JSON answer's UTF-8
 * bytes, as they go out), without a filter and with a common term, a rare term (0.1 %), a district and
 * `open_at`, with every record in the record cache (the steady state, waited for), and once with records
 * read from SQLite (no cache). Snapshot build time (from a scan, and rebuilt by a fold) and RSS at the
 * largest size in a fresh child process. Then, at the largest size: the HTTP run (`bench-http.ts`: express hello, express + bare
 * geokdbush, edumap /healthz and nearest), the stall run (`bench-stall.ts`: query latency while a 10-row and
 * a 100k-row import land, bookings while the whole store is re-imported by the CLI) and the booking bench
 * (`bench-booking.ts`).
 * Results: bench-results/bench-<time>.json and bench-results/latency.svg (latency against dataset size).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { around, distance } from 'geokdbush';
import { ROOT } from '../src/config.js';
import { openStore } from '../src/store/db.js';
import { SqliteDatabase } from '../src/store/sqlite.js';
import { loadTaxonomy } from '../src/taxonomy/taxonomy.js';
import { AreaIndex } from '../src/geo/areas.js';
import { AreaStore } from '../src/store/areas.js';
import { SnapshotHolder } from '../src/engine/holder.js';
import { PartsBuilder } from '../src/engine/builder.js';
import { search } from '../src/engine/search.js';
import { Queries, type SeatIndex } from '../src/engine/query.js';
import { clusters, prepareClusters } from '../src/engine/clusters.js';
import { clusterIndex } from '../src/engine/hierarchy.js';
import { compileSearch } from '../src/engine/compile.js';
import type { SearchParams } from '../src/engine/params.js';
import { answerBytes } from '../src/engine/render.js';
import { importCsv } from '../src/import/csv.js';
import { Maintenance } from '../src/import/maintenance.js';
import { seedDistricts } from '../src/service.js';
import { Snapshot } from '../src/engine/snapshot.js';
import { View } from '../src/engine/view.js';
import { RecordCache } from '../src/engine/records.js';
import type { SnapshotParts } from '../src/engine/parts.js';
import { createRandom, csvChunks, generateRows, loadWorld } from './gen.js';
import { printHttp, runHttpBench, type HttpFigures } from './bench-http.js';
import { runStallBench, type StallFigures } from './bench-stall.js';
import { measure, type Figure } from './harness.js';
import { TERM_FREQUENCY } from './gen-profile.js';

const TAXONOMY = join(ROOT, 'taxonomy');
const BENCH_DIR = join(ROOT, 'var', 'bench');

type Row = Record<string, Figure>;

/** The bench database of `count` generated rows, imported on first use. */
async function dataset(count: number, seed: number): Promise<string> {
  mkdirSync(BENCH_DIR, { recursive: true });
  const path = join(BENCH_DIR, `gen-${count}-${seed}.db`);
  if (existsSync(path)) return path;
  const partial = `${path}.partial`;
  rmSync(partial, { force: true });
  const db = await openStore(partial);
  await seedDistricts(db, join(ROOT, 'data'));
  const tax = loadTaxonomy(TAXONOMY);
  const areas = new AreaIndex(await new AreaStore(db).list());
  const report = await importCsv(Readable.from(csvChunks(generateRows(count, seed, loadWorld()))), { db, tax, areas });
  await new Maintenance(db).run(); // the batch folded, as the service's maintenance leaves it: the steady state
  await (db as SqliteDatabase).exclusive((raw) => raw.pragma('wal_checkpoint(TRUNCATE)'));
  await db.close();
  renameSync(partial, path);
  rmSync(`${partial}-wal`, { force: true });
  rmSync(`${partial}-shm`, { force: true });
  console.log(`  imported ${count.toLocaleString()} generated rows in ${report.seconds.toFixed(1)} s (${Math.round(count / report.seconds).toLocaleString()} rows/s, final transaction ${report.apply_seconds.toFixed(1)} s)`);
  return path;
}

const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;

/** Query points: most near resources (where people look), some anywhere in Beijing. */
function queryPoints(snap: Snapshot, count: number, seed: number): [number, number][] {
  const rand = createRandom(seed);
  return Array.from({ length: count }, () => {
    if (rand() < 0.7 && snap.size) {
      const i = Math.floor(rand() * snap.size);
      return [snap.lng[i] + (rand() - 0.5) * 0.02, snap.lat[i] + (rand() - 0.5) * 0.02] as [number, number];
    }
    return [116.1 + rand() * 0.6, 39.75 + rand() * 0.35] as [number, number];
  });
}

/** The naive baseline: distance to every point, keep the 10 nearest. */
function linearScan(snap: Snapshot, [lng, lat]: [number, number], k = 10): number[] {
  const best: { i: number; d: number }[] = [];
  for (let i = 0; i < snap.size; i++) {
    const d = distance(lng, lat, snap.lng[i], snap.lat[i]);
    if (best.length < k || d < best[best.length - 1].d) {
      best.push({ i, d });
      best.sort((a, b) => a.d - b.d);
      if (best.length > k) best.pop();
    }
  }
  return best.map((b) => b.i);
}

/** The full pipeline of one k=10 nearest query at a point: compile, search, the JSON answer's bytes (as they go out). */
function pipelineOf(view: View, extra: Partial<SearchParams>) {
  return async (p: [number, number]) => {
    const params: SearchParams = { near: `${p[0]},${p[1]}`, limit: 10, ...extra };
    const result = search(view, compileSearch(view, params));
    return answerBytes(view, result.refs, 'wgs84', { distancesKm: result.distancesKm }, '{"crs":"wgs84","items":[', ']}');
  };
}

async function inProcess(view: View, queries: number, seed: number): Promise<Row> {
  const snap = view.base;
  const points = queryPoints(snap, queries, seed);
  const pipeline = (extra: Partial<SearchParams>) => pipelineOf(view, extra);
  const engine = (extra: Partial<SearchParams>) => async (p: [number, number]) =>
    search(view, compileSearch(view, { near: `${p[0]},${p[1]}`, limit: 10, ...extra }));
  const linearCount = Math.max(20, Math.min(queries, Math.round(2e8 / Math.max(1, snap.size) / 10)));
  return {
    'linear scan': await measure(points.slice(0, linearCount), (p) => linearScan(snap, p), 5),
    'geokdbush raw': await measure(points, ([lng, lat]) => around(snap.points, lng, lat, 10)),
    'engine': await measure(points, engine({})),
    'pipeline': await measure(points, pipeline({})),
    'pipeline, common term': await measure(points, pipeline({ tag: [TERM_FREQUENCY.common] })),
    'engine, rare term': await measure(points, engine({ tag: [TERM_FREQUENCY.rare] })),
    'pipeline, rare term': await measure(points, pipeline({ tag: [TERM_FREQUENCY.rare] })),
    'pipeline, area 110108': await measure(points, pipeline({ area: '110108' })),
    'pipeline, open_at Sat 14:00': await measure(points, pipeline({ open_at: '2026-12-05T14:00' })),
  };
}

/** In a fresh process: build a snapshot of the database and report time, RSS once settled, and peak RSS. */
async function snapshotChild(dbPath: string): Promise<void> {
  const db = await openStore(dbPath);
  const holder = new SnapshotHolder(db, loadTaxonomy(TAXONOMY));
  const before = process.memoryUsage().rss;
  const started = performance.now();
  const view = await holder.rebuild();
  const buildMs = performance.now() - started;
  await holder.settled();
  (globalThis as { gc?: () => void }).gc?.(); // the build's garbage collected, as it soon is in service
  await new Promise((r) => setTimeout(r, 200));
  const rssMb = process.memoryUsage().rss / 1e6;
  const peakMb = process.resourceUsage().maxRSS / 1e3;
  const first = await firstClusters(holder, view);
  // A rebuild after a write of a few rows: the base and the changes folded in the build worker, no scan.
  // Nothing changed here, so this is the fold's fixed cost (copying the columns, postings, kd-tree); a few
  // thousand changed rows add milliseconds to it.
  const builder = new PartsBuilder(db, 'worker');
  const foldStarted = performance.now();
  const folded = await builder.fold(view.base.parts, view.base.ctx.vocab, view.size);
  const foldMs = performance.now() - foldStarted;
  if (folded.how !== 'fold' || folded.parts.size !== view.size) throw new Error(`the fold did not fold: ${folded.how}, ${folded.parts.size} resources`);
  // A restart with the base saved: a new holder loads the file and folds in what changed since (nothing here).
  const dir = mkdtempSync(join(tmpdir(), 'edumap-bench-saved-'));
  try {
    const file = join(dir, 'edumap.snapshot');
    const saved = await builder.save(file, view.base.parts, view.base.ctx.vocab);
    await builder.close();
    const restarted = new SnapshotHolder(db, loadTaxonomy(TAXONOMY), { savedFile: file, saveEveryMs: 3_600_000 });
    const loadStarted = performance.now();
    const loaded = await restarted.rebuild();
    const loadMs = performance.now() - loadStarted;
    await restarted.stop();
    if (restarted.stats.loaded !== 1 || loaded.size !== view.size) throw new Error(`the saved base was not loaded: ${restarted.loadRefused}`);
    const clustered = { ...first, ...await afterFold(view, folded.parts), ...await streetClusters(holder, view) };
    console.log(JSON.stringify({ resources: view.size, build_ms: Math.round(buildMs), fold_ms: Math.round(foldMs), load_ms: Math.round(loadMs),
      save_ms: Math.round(saved.ms), saved_mb: Math.round(saved.bytes / 1e6), rss_mb: Math.round(rssMb), peak_rss_mb: Math.round(peakMb), rss_before_mb: Math.round(before / 1e6),
      ...clustered }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await holder.stop();
}

/**
 * The first map request on a folded base, whose hierarchy was prepared before the swap (as the holder does
 * when the old base served the map): the preparation's time, then the request's.
 */
async function afterFold(view: View, parts: SnapshotParts): Promise<Record<string, number>> {
  const next = new Snapshot(parts, view.base.ctx);
  let started = performance.now();
  await prepareClusters(next, view.base);
  const preparedMs = performance.now() - started;
  started = performance.now();
  const answer = await clusters(new View(next), { limit: 10 }, [115.4, 39.4, 117.6, 41.1], 10);
  const answerMs = performance.now() - started;
  if (answer.total !== next.size) throw new Error(`clusters counted ${answer.total} of ${next.size}`);
  return { clusters_prepared_ms: Math.round(preparedMs), clusters_after_fold_ms: Math.round(answerMs) };
}

/**
 * Map views at street level (zoom 12, a 1280×800 px screen), ten of them over the city: the whole answer
 * (`Queries.clusters`: the markers with their names, as JSON) and, as the baseline, the same answer's
 * single markers' records read from the store, which each answer read for their names before the snapshot
 * kept them. Medians, in ms; the markers per view on average.
 */
async function streetClusters(holder: SnapshotHolder, view: View): Promise<Record<string, number>> {
  const queries = new Queries(holder, {} as SeatIndex); // no availability filter: no seats asked
  const zoom = 12;
  const width = (1280 / (256 * 2 ** zoom)) * 360;
  const height = width * (800 / 1280) * Math.cos((40 * Math.PI) / 180); // degrees of latitude are longer in mercator at 40° N
  const random = createRandom(12);
  const answers: number[] = [];
  const reads: number[] = [];
  let markers = 0;
  for (let k = 0; k < 10; k++) {
    const lng = 116.2 + random() * 0.4;
    const lat = 39.8 + random() * 0.25;
    const bbox: [number, number, number, number] = [lng - width / 2, lat - height / 2, lng + width / 2, lat + height / 2];
    let started = performance.now();
    await queries.clusters({ bbox: bbox.join(','), zoom });
    answers.push(performance.now() - started);
    const { items } = await clusters(view, compileSearch(view, { bbox: bbox.join(',') }), bbox, zoom);
    const single = items.flatMap((m) => (m.ref ? [m.ref] : []));
    started = performance.now();
    for (const doc of await view.records(single)) JSON.parse(doc);
    reads.push(performance.now() - started);
    markers += items.length;
  }
  const median = (xs: number[]) => Math.round(xs.sort((a, b) => a - b)[xs.length >> 1]);
  return { street_clusters_answer_ms: median(answers), street_clusters_records_ms: median(reads), street_clusters_markers: Math.round(markers / 10) };
}

/**
 * The first map request on a new base (`clusters` over all of Beijing at zoom 10): how long it takes to
 * answer, and the longest the event loop was held meanwhile (what every other request waited), with the
 * hierarchy built in the worker; RSS once settled with that hierarchy cached (the map in use); beside
 * it, the same hierarchy built in place on the main thread (as before), which holds the loop for all of it.
 */
async function firstClusters(holder: SnapshotHolder, view: View): Promise<Record<string, number>> {
  const snap = view.base;
  let last = performance.now();
  let held = 0;
  const probe = setInterval(() => {
    const now = performance.now();
    held = Math.max(held, now - last);
    last = now;
  }, 5);
  const started = performance.now();
  const answer = await clusters(view, { limit: 10 }, [115.4, 39.4, 117.6, 41.1], 10);
  const answerMs = performance.now() - started;
  clearInterval(probe);
  held = Math.max(held, performance.now() - last);
  if (answer.total !== view.size) throw new Error(`clusters counted ${answer.total} of ${view.size}`);
  // The map in use: that hierarchy stays in the holder's cache.
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 200));
  const rssMapMb = process.memoryUsage().rss / 1e6;
  // The baseline after (its garbage would stay in the RSS above): the same hierarchy built in place.
  const inPlaceStarted = performance.now();
  const all = Array.from({ length: snap.size }, (_, i) => ({ p: 0, i }));
  clusterIndex((p) => snap.lng[p.i], (p) => snap.lat[p.i], (p) => snap.primaryDomain[p.i], all);
  const inPlaceMs = performance.now() - inPlaceStarted;
  (globalThis as { gc?: () => void }).gc?.();
  return { clusters_in_place_ms: Math.round(inPlaceMs), clusters_first_ms: Math.round(answerMs), clusters_loop_held_ms: Math.round(held),
    rss_map_mb: Math.round(rssMapMb), hierarchy_mb: Math.round(holder.clusterCache.bytes / 1e6) };
}

function runChild(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--expose-gc', '--import', 'tsx', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
}

async function childJson(args: string[]): Promise<Record<string, number>> {
  const child = runChild(args);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  await new Promise((resolve) => child.on('exit', resolve));
  return JSON.parse(out.trim().split('\n').pop()!);
}

/** A small SVG of p50 latency against dataset size, one line per case, log-log. */
function chart(results: { size: number; row: Row }[]): string {
  const cases = Object.keys(results[0].row);
  const W = 760, H = 420, L = 70, R = 230, T = 30, B = 50;
  const xs = results.map((r) => Math.log10(r.size));
  const ys = results.flatMap((r) => Object.values(r.row).map((f) => Math.log10(Math.max(f.p50, 0.1))));
  const [x0, x1] = [Math.min(...xs), Math.max(...xs) || 1];
  const [y0, y1] = [Math.floor(Math.min(...ys)), Math.ceil(Math.max(...ys))];
  const px = (x: number) => L + ((x - x0) / Math.max(1e-9, x1 - x0)) * (W - L - R);
  const py = (y: number) => H - B - ((y - y0) / Math.max(1e-9, y1 - y0)) * (H - T - B);
  const colours = ['#999', '#111', '#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2'];
  const lines = cases.map((c, k) => {
    const pts = results.map((r) => `${px(Math.log10(r.size)).toFixed(1)},${py(Math.log10(Math.max(r.row[c].p50, 0.1))).toFixed(1)}`).join(' ');
    return `<polyline fill="none" stroke="${colours[k % colours.length]}" stroke-width="2" points="${pts}"/>` +
      `<text x="${W - R + 10}" y="${T + 16 * k}" font-size="12" fill="${colours[k % colours.length]}">${c}</text>`;
  }).join('\n');
  const yTicks = Array.from({ length: y1 - y0 + 1 }, (_, k) => y0 + k).map((y) =>
    `<line x1="${L}" x2="${W - R}" y1="${py(y)}" y2="${py(y)}" stroke="#eee"/><text x="${L - 8}" y="${py(y) + 4}" font-size="11" text-anchor="end">${10 ** y} µs</text>`).join('');
  const xTicks = results.map((r) => `<text x="${px(Math.log10(r.size))}" y="${H - B + 18}" font-size="11" text-anchor="middle">${r.size.toLocaleString()}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<text x="${L}" y="18" font-size="14">edumap k=10 nearest, p50 latency (µs) against resources</text>
${yTicks}${xTicks}
<text x="${(L + W - R) / 2}" y="${H - 10}" font-size="12" text-anchor="middle">resources (log scale)</text>
${lines}
</svg>\n`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '10000,100000,1000000' },
      seed: { type: 'string', default: '1' },
      queries: { type: 'string', default: '2000' },
      'http-seconds': { type: 'string', default: '10' },
      'skip-http': { type: 'boolean', default: false },
      'skip-stall': { type: 'boolean', default: false },
      'skip-booking': { type: 'boolean', default: false },
      'stall-big': { type: 'string', default: '100000' },
      'child-snapshot': { type: 'string' },
    },
  });
  if (values['child-snapshot']) return snapshotChild(values['child-snapshot']);
  const sizes = values.sizes!.split(',').map(Number);
  const seed = Number(values.seed);
  const queries = Number(values.queries);
  const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memory_gb: Math.round(totalmem() / 2 ** 30), node: process.version };
  console.log(`edumap bench — ${machine.cores} cores (${machine.cpu}), ${machine.memory_gb} GB, Node ${machine.node}`);

  const results: { size: number; row: Row; build_ms: number }[] = [];
  let largest: { path: string; snap: Snapshot } | undefined;
  for (const size of sizes) {
    console.log(`\n${size.toLocaleString()} resources (gen seed ${seed}), k=10, ${queries} queries, µs`);
    const path = await dataset(size, seed);
    const db = await openStore(path);
    const holder = new SnapshotHolder(db, loadTaxonomy(TAXONOMY));
    const started = performance.now();
    const snap = await holder.rebuild();
    const buildMs = Math.round(performance.now() - started);
    // The store-read baseline first, on the same parts with no record cache; then the steady state, every
    // record in the cache (read in the background after the build).
    const uncached = new View(new Snapshot(snap.base.parts, { ...snap.base.ctx, records: new RecordCache(0) }));
    const fromStore = await measure(queryPoints(snap.base, queries, seed + size), pipelineOf(uncached, {}));
    const warmStarted = performance.now();
    await holder.recordsWarmed();
    console.log(`  record cache warm ${holder.recordsWarm} ${Math.round((performance.now() - started) / 1000)} s after the build began`
      + ` (waited ${Math.round((performance.now() - warmStarted) / 1000)} s here), ${(holder.records.bytes / 1e6).toFixed(1)} MB for ${holder.records.size.toLocaleString()} records`);
    const row: Row = { ...await inProcess(snap, queries, seed + size), 'pipeline, records from store': fromStore };
    const raw = row['geokdbush raw'];
    for (const [name, f] of Object.entries(row)) {
      console.log(`  ${name.padEnd(30)} p50 ${String(f.p50).padStart(9)}  p99 ${String(f.p99).padStart(9)}   ×raw p50 ${(f.p50 / raw.p50).toFixed(2).padStart(7)}  ×raw p99 ${(f.p99 / raw.p99).toFixed(2).padStart(7)}  (n=${f.n})`);
    }
    results.push({ size, row, build_ms: buildMs });
    largest = { path, snap: snap.base };
  }

  const top = results[results.length - 1];
  const targets: Record<string, string> = {};
  const check = (name: string, value: number, limit: number, unit = '') => {
    targets[name] = `${value}${unit} (target ≤ ${limit}${unit}): ${value <= limit ? 'met' : 'NOT met'}`;
  };
  check(`pipeline p50 / geokdbush p50 at ${top.size}`, ratio(top.row.pipeline.p50, top.row['geokdbush raw'].p50), 2.5);
  check(`engine p50 / geokdbush p50 at ${top.size}`, ratio(top.row.engine.p50, top.row['geokdbush raw'].p50), 1.5);
  check(`rare-term p99 / unfiltered p99 (pipeline) at ${top.size}`, ratio(top.row['pipeline, rare term'].p99, top.row.pipeline.p99), 2);
  check(`rare-term p99 / unfiltered p99 (engine) at ${top.size}`, ratio(top.row['engine, rare term'].p99, top.row.engine.p99), 2);

  console.log(`\nsnapshot build of ${top.size.toLocaleString()} resources in a fresh process:`);
  const snapshot = await childJson(['scripts/bench.ts', '--child-snapshot', largest!.path]);
  console.log(`  from a scan (a first start or one without a usable saved base, areas or calendar changed, most of the store rewritten): ${snapshot.build_ms} ms; RSS ${snapshot.rss_mb} MB once settled, peak ${snapshot.peak_rss_mb} MB (process before the build: ${snapshot.rss_before_mb} MB)`);
  console.log(`  rebuilt after a write (the base and the changed rows folded in the worker, no scan): ${snapshot.fold_ms} ms`);
  console.log(`  the first map request on that base (clusters of all Beijing, zoom 10): answered in ${snapshot.clusters_first_ms} ms, the event loop held ${snapshot.clusters_loop_held_ms} ms at most meanwhile (hierarchy built in the worker); built in place on the main thread, as before: ${snapshot.clusters_in_place_ms} ms, all of it holding the loop`);
  check(`event loop held by the first clusters request at ${top.size}`, snapshot.clusters_loop_held_ms, 100, ' ms');
  console.log(`  with the map in use (that hierarchy cached, ${snapshot.hierarchy_mb} MB of arrays): RSS ${snapshot.rss_map_mb} MB once settled, against ${snapshot.rss_mb} MB without`);
  console.log(`  the first map request after a write: its folded base is swapped in with the hierarchy already built (in ${snapshot.clusters_prepared_ms} ms, in the worker, while the old base and overlay serve); the request then answered in ${snapshot.clusters_after_fold_ms} ms (before, it waited for the build, as the first request above did)`);
  console.log(`  map views at street level (zoom 12, 1280×800 px, ${snapshot.street_clusters_markers} markers each on average): the answer in ${snapshot.street_clusters_answer_ms} ms (median of 10); reading their single markers' records from the store, as the answer did before the snapshot kept names, took another ${snapshot.street_clusters_records_ms} ms`);
  console.log(`  start-up with the base saved (the file read, the changes since folded in; a scan above is the start without one): ${snapshot.load_ms} ms; the save: ${snapshot.save_ms} ms, ${snapshot.saved_mb} MB`);
  check(`snapshot start-up from the saved base at ${top.size}`, snapshot.load_ms, 3000, ' ms');
  check(`snapshot build from a scan at ${top.size}`, snapshot.build_ms, 3000, ' ms');
  check(`snapshot rebuild after a write (fold) at ${top.size}`, snapshot.fold_ms, 3000, ' ms');
  check(`snapshot RSS (settled) at ${top.size}`, snapshot.rss_mb, 600, ' MB');
  check(`snapshot RSS (settled) with the map's hierarchy of all resources at ${top.size}`, snapshot.rss_map_mb, 600, ' MB');

  let httpFigures: HttpFigures | undefined;
  if (!values['skip-http']) {
    console.log(`\nHTTP, autocannon, ${top.size.toLocaleString()} resources, every request another point:`);
    httpFigures = await runHttpBench({ db: largest!.path, points: queryPoints(largest!.snap, 5000, 77), seconds: Number(values['http-seconds']) });
    printHttp(httpFigures);
    targets['HTTP nearest / bare geokdbush req/s'] = `${httpFigures.rps_ratio} (target ≥ 0.75): ${httpFigures.rps_ratio >= 0.75 ? 'met' : 'NOT met'}`;
    check('HTTP nearest p99 / bare geokdbush p99', httpFigures.p99_ratio, 1.5);
  }

  let stall: StallFigures | undefined;
  if (!values['skip-stall']) {
    console.log(`\nstall: queries and bookings while imports land, ${top.size.toLocaleString()} resources:`);
    stall = await runStallBench({ db: largest!.path, big: Number(values['stall-big']), reimport: top.size, seed });
    const worst = Math.max(stall.small.queries.max, stall.big.queries.max, stall.reimport.queries.max);
    check('longest query wait during imports', worst, 100, ' ms');
    check('10-row batch searchable after its answer', stall.small.searchable_after_answer_ms, 1000, ' ms');
    check('booking p99 during the full re-import', stall.reimport.bookings.p99, 200, ' ms');
    check('bookings refused busy during the re-import', stall.reimport.statuses['503 busy'] ?? 0, 0);
    targets[`CLI import rows/s at ${top.size}`] = `${stall.reimport.rows_per_s} (target ≥ 50000): ${stall.reimport.rows_per_s >= 50_000 ? 'met' : 'NOT met'}`;
  }

  let booking: unknown;
  const bookingBench = join(ROOT, 'scripts', 'bench-booking.ts');
  if (!values['skip-booking'] && existsSync(bookingBench)) {
    const mod = await import(bookingBench) as { runBookingBench?: (o: object) => Promise<unknown> };
    if (mod.runBookingBench) {
      console.log('\nbooking:');
      booking = await mod.runBookingBench({});
    }
  }

  console.log('\ntargets:');
  for (const [name, verdict] of Object.entries(targets)) console.log(`  ${name}: ${verdict}`);
  const outDir = join(ROOT, 'bench-results');
  mkdirSync(outDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const json = { machine, seed, queries, sizes: results, snapshot, http: httpFigures, stall, booking, targets };
  writeFileSync(join(outDir, `bench-${stamp}.json`), JSON.stringify(json, null, 2));
  writeFileSync(join(outDir, 'latency.svg'), chart(results));
  console.log(`\nwrote bench-results/bench-${stamp}.json and bench-results/latency.svg`);
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
