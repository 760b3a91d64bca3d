/**
 * `npm run bench:pg`: edumap on PostgreSQL, each figure beside its baseline measured in the same run.
 *
 *   npm run bench:pg -- [--rows 100000] [--seed 1] [--queries 2000] [--http-seconds 5] [--skip-http]
 *
 * Starts a throwaway PostgreSQL cluster (test/postgres/cluster.mjs: initdb in a temp dir, a free loopback
 * port, stopped by its PID at the end), loads `--rows` generated resources (scripts/gen.ts, seeded) into it
 * and into a SQLite file, both by the importer, then measures:
 * - snapshot build from PostgreSQL (COPY) beside the build from SQLite, same rows, in this process;
 * - the in-process query pipeline (k=10 nearest: compile + search + the JSON answer with records read from
 *   the store) on PostgreSQL beside SQLite, same query points, with raw geokdbush as the floor;
 * - HTTP, `GET /v1/resources?near=…` at varied points, autocannon with 10 connections in all: one replica
 *   over PostgreSQL, two replicas (the client spreads the connections over both), two replicas with the
 *   shared rate limit counting (a limit no client reaches: its cost, one upsert a request), beside one
 *   server over SQLite and an express hello-world.
 * Timing targets are for this script only, never tests. The machine (cores, Node) is printed first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { around } from 'geokdbush';
import { ROOT } from '../src/config.js';
import { openStore, type Database } from '../src/store/db.js';
import { PostgresDatabase } from '../src/store/postgres.js';
import { loadTaxonomy } from '../src/taxonomy/taxonomy.js';
import { AreaIndex } from '../src/geo/areas.js';
import { AreaStore } from '../src/store/areas.js';
import { SnapshotHolder } from '../src/engine/holder.js';
import { search } from '../src/engine/search.js';
import { compileSearch } from '../src/engine/compile.js';
import { resourcesJson } from '../src/engine/render.js';
import { importCsv } from '../src/import/csv.js';
import { seedDistricts } from '../src/service.js';
import type { View } from '../src/engine/view.js';
import { createRandom, csvChunks, generateRows, loadWorld } from './gen.js';
import { freePort, measure } from './harness.js';
import { startCluster, stopCluster } from '../test/postgres/cluster.mjs';

const TAXONOMY = join(ROOT, 'taxonomy');
/** Test secrets for the server processes (never real ones). */
const SECRETS = { EDUMAP_HASH_KEY: 'bench-replicas-hash-key-0123456789abcdef', EDUMAP_DATA_KEY: 'b2'.repeat(32) };


/** Query points: most near resources (where people look), some anywhere in Beijing. */
function queryPoints(view: View, count: number, seed: number): [number, number][] {
  const snap = view.base;
  const rand = createRandom(seed);
  return Array.from({ length: count }, () => {
    if (rand() < 0.7 && snap.size) {
      const i = Math.floor(rand() * snap.size);
      return [snap.lng[i] + (rand() - 0.5) * 0.02, snap.lat[i] + (rand() - 0.5) * 0.02] as [number, number];
    }
    return [116.1 + rand() * 0.6, 39.75 + rand() * 0.35] as [number, number];
  });
}

/** Districts, then `rows` generated resources, into the store at `location`: the import's seconds. */
async function load(location: string, rows: number, seed: number): Promise<number> {
  const db = await openStore(location);
  try {
    await seedDistricts(db, join(ROOT, 'data'));
    const areas = new AreaIndex(await new AreaStore(db).list());
    const report = await importCsv(Readable.from(csvChunks(generateRows(rows, seed, loadWorld()))), { db, tax: loadTaxonomy(TAXONOMY), areas });
    if (report.inserted !== rows) throw new Error(`${location}: ${report.inserted} of ${rows} rows inserted (${report.rejected_rows} rejected)`);
    return report.seconds;
  } finally {
    await db.close();
  }
}

/** Snapshot build time (ms) and the pipeline's figures over one store. */
async function inProcess(db: Database, points: [number, number][] | undefined, queries: number, seed: number) {
  const holder = new SnapshotHolder(db, loadTaxonomy(TAXONOMY));
  const started = performance.now();
  const view = await holder.rebuild();
  const buildMs = Math.round(performance.now() - started);
  const at = points ?? queryPoints(view, queries, seed);
  const pipeline = async (p: [number, number]) => {
    const result = search(view, compileSearch(view, { near: `${p[0]},${p[1]}`, limit: 10 }));
    return (await resourcesJson(view, result.refs, 'wgs84', { distancesKm: result.distancesKm })).join(',');
  };
  const figures = { 'geokdbush raw': await measure(at, ([lng, lat]) => around(view.base.points, lng, lat, 10)), pipeline: await measure(at, pipeline) };
  await holder.stop();
  return { buildMs, size: view.size, points: at, figures };
}

function runServer(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'],
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', LOG_LEVEL: 'warn', EDUMAP_RATE_SEARCH_PER_MIN: '0', EDUMAP_RATE_BOOKING_PER_MIN: '0', ...SECRETS, ...env },
  });
  return child;
}

async function waitReady(url: string, child: ChildProcess, ms = 180_000): Promise<void> {
  for (const until = Date.now() + ms; Date.now() < until;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the server for ${url} exited (${child.exitCode ?? child.signalCode})`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not become ready`);
}

interface Cannon { rps: number; p50_ms: number; p99_ms: number; errors: number; non2xx: number }

/** autocannon against every url at once, `connections` in all (split evenly), varied paths; summed req/s. */
async function cannon(urls: string[], seconds: number, paths: string[] | undefined, connections = 10): Promise<Cannon> {
  let k = 0;
  const runs = await Promise.all(urls.map((url) => autocannon({
    url, connections: Math.max(1, Math.round(connections / urls.length)), duration: seconds,
    requests: paths ? [{ setupRequest: (req) => ({ ...req, path: paths[k++ % paths.length] }) }] : undefined,
  })));
  return {
    rps: Math.round(runs.reduce((s, r) => s + r.requests.average, 0)),
    p50_ms: Math.max(...runs.map((r) => r.latency.p50)),
    p99_ms: Math.max(...runs.map((r) => r.latency.p99)),
    errors: runs.reduce((s, r) => s + r.errors, 0),
    non2xx: runs.reduce((s, r) => s + r.non2xx, 0),
  };
}

/** Servers started by `servers`, each `{ url, stop }`; all stopped in `finally` by the caller. */
async function servers(count: number, env: Record<string, string>, started: ChildProcess[]): Promise<string[]> {
  const urls: string[] = [];
  for (let n = 0; n < count; n++) {
    const port = await freePort();
    started.push(runServer({ ...env, PORT: String(port) }));
    urls.push(`http://127.0.0.1:${port}`);
  }
  await Promise.all(urls.map((u, n) => waitReady(u, started[started.length - count + n])));
  return urls;
}

async function stopAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(children.splice(0).map((c) => new Promise<void>((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) return resolve();
    c.once('exit', () => resolve());
    c.kill('SIGTERM');
    setTimeout(() => c.kill('SIGKILL'), 10_000).unref();
  })));
}

async function http(pgUrl: string, sqlitePath: string, seconds: number, points: [number, number][], print: (name: string, c: Cannon) => void) {
  const paths = points.map(([lng, lat]) => `/v1/resources?near=${lng.toFixed(5)},${lat.toFixed(5)}&limit=10`);
  const children: ChildProcess[] = [];
  const out: Record<string, Cannon> = {};
  const check = (name: string, c: Cannon) => {
    if (c.errors || c.non2xx) throw new Error(`${name}: ${c.non2xx} non-2xx answers and ${c.errors} errors`);
    out[name] = c;
    print(name, c);
  };
  try {
    const helloPort = await freePort();
    children.push(spawn(process.execPath, ['-e', `require('express')().get('/', (q, r) => r.send('hello world')).listen(${helloPort}, '127.0.0.1')`],
      { cwd: ROOT, stdio: 'ignore' }));
    const hello = `http://127.0.0.1:${helloPort}`;
    for (const until = Date.now() + 20_000; ;) {
      try {
        if ((await fetch(hello)).ok) break;
      } catch { /* not up yet */ }
      if (Date.now() > until) throw new Error('hello-world did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    check('express hello-world', await cannon([hello], seconds, undefined));
    await stopAll(children);

    const [sqlite] = await servers(1, { EDUMAP_DB: sqlitePath, EDUMAP_POLL_MS: '1000' }, children);
    await cannon([sqlite], 2, paths); // warm-up
    check('1 server, SQLite', await cannon([sqlite], seconds, paths));
    await stopAll(children);

    const [one, two] = await servers(2, { EDUMAP_DB: pgUrl }, children);
    await cannon([one, two], 2, paths); // warm-up
    check('1 replica, PostgreSQL', await cannon([one], seconds, paths));
    check('2 replicas, PostgreSQL', await cannon([one, two], seconds, paths));
    await stopAll(children);

    const limited = await servers(2, { EDUMAP_DB: pgUrl, EDUMAP_RATE_SEARCH_PER_MIN: '10000000' }, children);
    await cannon(limited, 2, paths);
    check('2 replicas, PostgreSQL, shared rate limit on', await cannon(limited, seconds, paths));
    return out;
  } finally {
    await stopAll(children);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '100000' },
      seed: { type: 'string', default: '1' },
      queries: { type: 'string', default: '2000' },
      'http-seconds': { type: 'string', default: '5' },
      'skip-http': { type: 'boolean', default: false },
    },
  });
  const rows = Number(values.rows);
  const seed = Number(values.seed);
  const queries = Number(values.queries);
  const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memory_gb: Math.round(totalmem() / 2 ** 30), node: process.version };
  console.log(`edumap bench:pg — ${machine.cores} cores (${machine.cpu}), ${machine.memory_gb} GB, Node ${machine.node}`);
  console.log(`dataset: ${rows.toLocaleString()} generated resources (gen seed ${seed}) + the 16 districts, in PostgreSQL and in SQLite`);

  const dir = mkdtempSync(join(tmpdir(), 'edumap-bench-pg-'));
  const cluster = await startCluster();
  const stop = async () => {
    await stopCluster(cluster);
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    const admin = PostgresDatabase.open(cluster.url, { poolSize: 1 });
    await admin.run('CREATE DATABASE edumap_bench');
    await admin.close();
    const pgUrl = cluster.url.replace(/\/postgres$/, '/edumap_bench');
    const sqlitePath = join(dir, 'bench.db');
    console.log(`PostgreSQL ${cluster.url.replace(/\/postgres$/, '')} (throwaway cluster, fsync off), SQLite ${sqlitePath}`);

    const pgImport = await load(pgUrl, rows, seed);
    const sqliteImport = await load(sqlitePath, rows, seed);
    console.log(`\nimport (the importer, in this process): PostgreSQL ${pgImport.toFixed(1)} s (${Math.round(rows / pgImport).toLocaleString()} rows/s), `
      + `SQLite ${sqliteImport.toFixed(1)} s (${Math.round(rows / sqliteImport).toLocaleString()} rows/s)`);

    const sqliteDb = await openStore(sqlitePath);
    const pgDb = await openStore(pgUrl);
    try {
      const lite = await inProcess(sqliteDb, undefined, queries, seed + rows);
      const pg = await inProcess(pgDb, lite.points, queries, seed + rows);
      if (lite.size !== pg.size) throw new Error(`the snapshots differ in size: SQLite ${lite.size}, PostgreSQL ${pg.size}`);
      console.log(`\nsnapshot build of ${pg.size.toLocaleString()} resources (in this process): PostgreSQL ${pg.buildMs} ms, SQLite ${lite.buildMs} ms `
        + `(×SQLite ${(pg.buildMs / lite.buildMs).toFixed(2)})`);
      console.log(`\nin-process pipeline, k=10 nearest, ${queries} varied points, µs (same points on both stores):`);
      for (const name of Object.keys(pg.figures) as (keyof typeof pg.figures)[]) {
        const a = pg.figures[name];
        const b = lite.figures[name];
        console.log(`  ${name.padEnd(28)} PostgreSQL p50 ${String(a.p50).padStart(8)} p99 ${String(a.p99).padStart(8)}   SQLite p50 ${String(b.p50).padStart(8)} p99 ${String(b.p99).padStart(8)}`
          + `   ×SQLite p50 ${(a.p50 / b.p50).toFixed(2).padStart(6)}   ×raw geokdbush p50 ${(a.p50 / pg.figures['geokdbush raw'].p50).toFixed(2).padStart(6)}`);
      }
      if (!values['skip-http']) {
        const seconds = Number(values['http-seconds']);
        console.log(`\nHTTP GET /v1/resources?near=…&limit=10, autocannon, 10 connections in all, loopback, ${seconds} s each, varied points, rate limits off unless said:`);
        let hello = 0;
        let base = 0;
        await http(pgUrl, sqlitePath, seconds, lite.points, (name, f) => {
          if (name === 'express hello-world') hello = f.rps;
          if (name === '1 replica, PostgreSQL') base = f.rps;
          const vs = base ? `   ×1 replica ${(f.rps / base).toFixed(2).padStart(5)}` : '';
          console.log(`  ${name.padEnd(46)} ${String(f.rps).padStart(7)} req/s  p50 ${f.p50_ms} ms  p99 ${f.p99_ms} ms   ×hello ${(f.rps / hello).toFixed(2).padStart(5)}${vs}`);
        });
      }
    } finally {
      await Promise.all([sqliteDb.close(), pgDb.close()]);
    }
  } finally {
    await stop();
  }
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
