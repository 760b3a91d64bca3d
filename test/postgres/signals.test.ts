import request from 'supertest';
import { openStore, bumpGeneration } from '../../src/store/db.js';
import { PostgresDatabase } from '../../src/store/postgres.js';
import { LISTENER_NAME, watch, readCounters, type Counters, type Watch } from '../../src/store/signals.js';
import { StoreUnavailable, type Database } from '../../src/store/sql.js';
import { SlotStore } from '../../src/store/slots.js';
import { createApp } from '../../src/http/app.js';
import { createTestDatabase, dropTestDatabase } from './databases.js';
import { restartParts, startCluster, stopCluster, type Cluster } from './cluster.mjs';
import { HEADER, OPERATOR, TEST_DATA_KEY, TEST_HASH_KEY, csvLine, testService } from '../support.js';
import { formatShanghai } from '../../src/time.js';
import { DEFAULTS } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { openService } from '../../src/service.js';

// Replicas hear of each other's writes: a NOTIFY in the writing transaction, and the counters compared on
// every reconnection and every few seconds (a notification sent while a listener is away is lost).

/**
 * Resolves with the first change `w`'s callback reports that satisfies `ok`, or rejects after `ms` with what
 * was seen and the watch's errors (pass `onError`).
 */
function changes() {
  const seen: Counters[] = [];
  const errors: string[] = [];
  const waiters: { ok: (c: Counters) => boolean; resolve: (c: Counters) => void }[] = [];
  return {
    onChange: (now: Counters) => {
      seen.push(now);
      for (const w of waiters.splice(0)) if (w.ok(now)) w.resolve(now); else waiters.push(w);
    },
    seen,
    onError: (e: unknown) => errors.push(e instanceof Error ? e.message : String(e)),
    next: (ok: (c: Counters) => boolean, ms = 5000) => new Promise<Counters>((resolve, reject) => {
      const hit = seen.find(ok);
      if (hit) return resolve(hit);
      const timer = setTimeout(() => reject(new Error(`no change matching within ${ms} ms; seen ${JSON.stringify(seen)}; errors ${JSON.stringify(errors)}`)), ms);
      waiters.push({ ok, resolve: (c) => { clearTimeout(timer); resolve(c); } });
    }),
  };
}

describe('watch on the shared test server', () => {
  let url: string;
  let db: Database;
  let writer: Database;
  let w: Watch | undefined;
  beforeEach(async () => {
    url = await createTestDatabase();
    [db, writer] = await Promise.all([openStore(url), openStore(url)]);
  });
  afterEach(async () => {
    await w?.stop();
    await Promise.all([db.close(), writer.close()]);
    await dropTestDatabase(url);
  });
  const listening = async (d: Database) => {
    for (let i = 0; i < 100; i++) {
      // It listened, then read the counters on that connection. (A connection that has run nothing yet is
      // idle too, with an empty query: a write then would be read as the baseline, and never reported.)
      if (await d.value(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = '${LISTENER_NAME}'
        AND state = 'idle' AND query LIKE 'SELECT key, value FROM meta%'`)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the watcher never listened');
  };

  test('a write batch in another process reaches the watcher by its notification, long before any check', async () => {
    const c = changes();
    w = watch(db, c.onChange, { checkMs: 60_000 });
    await listening(writer);
    const started = Date.now();
    const generation = await writer.tx((t) => bumpGeneration(t));
    expect((await c.next((x) => x.generation === generation)).generation).toBe(generation);
    expect(Date.now() - started).toBeLessThan(2000);
    // A slot change too, by its own counter.
    const slots = new SlotStore(writer);
    await writer.tx((t) => slots.insert(t, [{ resourceId: 'r', startMs: 1e12, endMs: 1e12 + 3_600_000, capacityIndividual: 1, capacityGroup: 0, groupMin: 1, groupMax: 1 }], 'now'));
    const moved = await c.next((x) => x.slots > 0);
    expect(moved).toEqual({ generation, slots: (await readCounters(writer)).slots });
  });

  test('a notification lost while the listener was away is caught by the check on reconnection', async () => {
    const c = changes();
    const errors: unknown[] = [];
    w = watch(db, c.onChange, { checkMs: 60_000, backoffMs: [1500, 1500], onError: (e) => errors.push(e) });
    await listening(writer);
    // The server ends the listener's connection; the next write is made while nobody listens.
    await writer.value(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = '${LISTENER_NAME}'`);
    const generation = await writer.tx((t) => bumpGeneration(t));
    expect((await c.next((x) => x.generation === generation, 8000)).generation).toBe(generation);
    expect(w.reconnects).toBeGreaterThanOrEqual(1);
    expect(errors.length).toBeGreaterThanOrEqual(1);
  });

  test('a write that notified nobody (PgBouncer in transaction mode passes none) is caught by the periodic check', async () => {
    const c = changes();
    w = watch(db, c.onChange, { checkMs: 200, onError: c.onError });
    await listening(writer);
    await writer.run("INSERT INTO meta (key, value) VALUES ('generation', '41') ON CONFLICT (key) DO UPDATE SET value = '41'"); // no NOTIFY
    expect((await c.next((x) => x.generation === 41)).generation).toBe(41);
  });

  test('given the counters a copy was built from, a move past them is reported at once', async () => {
    const c = changes();
    const now = await readCounters(db);
    w = watch(db, c.onChange, { checkMs: 60_000, since: { ...now, generation: now.generation - 1 } });
    expect(await c.next((x) => x.generation === now.generation)).toEqual(now);
  });
});

test('a replica following the store hears of another\'s import and new slot at once, with no query of its own', async () => {
  const writer = await testService({ seed: false });
  const config = { ...writer.config };
  const replica = await openService(config, createLogger(config), { onlyDistricts: true });
  const errors: unknown[] = [];
  try {
    replica.follow(60_000, (e) => errors.push(e)); // a check a minute: only the notifications can be this quick
    const until = async (ok: () => boolean) => {
      for (const deadline = Date.now() + 3000; !ok() && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20));
      return ok();
    };
    await new Promise((r) => setTimeout(r, 300)); // the listener connects
    await writer.importText([HEADER, csvLine({ id: 'm', name: '首都博物馆', type: 'museum', lng: 116.3434, lat: 39.9055, tags: 'zhi', source: 'test' })].join('\n'));
    expect(await until(() => replica.holder.current.size === 1)).toBe(true);
    expect(replica.bookings.availability.slots).toBe(0);
    const start = Date.parse(`${formatShanghai(new Date(Date.now() + 2 * 86_400_000)).slice(0, 10)}T09:00:00+08:00`);
    await writer.bookings.createSlots('m', [{ start: formatShanghai(new Date(start)), end: formatShanghai(new Date(start + 3_600_000)), capacity: { individual: 5 } }], OPERATOR);
    expect(await until(() => replica.bookings.availability.slots === 1)).toBe(true);
    expect(errors).toEqual([]);
  } finally {
    await replica.close();
    await writer.close();
  }
});

test('on SQLite the counters are polled', async () => {
  const svc = await testService({ seed: false, backend: 'sqlite' });
  const c = changes();
  const w = watch(svc.db, c.onChange, { checkMs: 50 });
  try {
    await new Promise((r) => setTimeout(r, 100));
    const generation = await svc.db.tx((t) => bumpGeneration(t));
    expect((await c.next((x) => x.generation === generation)).generation).toBe(generation);
  } finally {
    await w.stop();
    await svc.close();
  }
});

describe('a PostgreSQL server that goes away and comes back (a cluster of its own)', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster();
  }, 120_000);
  afterAll(async () => {
    if (cluster) await stopCluster(cluster);
  });

  test('ping and /readyz fail while it is down, and recover with it; so do queries and the watcher', async () => {
    const admin = PostgresDatabase.open(cluster.url);
    await admin.run('CREATE DATABASE edumap');
    await admin.close();
    const url = cluster.url.replace(/\/postgres$/, '/edumap');
    // The service of a replica on this server: its own snapshot, its own pool.
    const config = { ...DEFAULTS, dbPath: url, logLevel: 'silent' as const, pollMs: 0, hashKey: TEST_HASH_KEY, dataKey: Buffer.from(TEST_DATA_KEY, 'hex') };
    const replica = await openService(config, createLogger(config), { onlyDistricts: true });
    const app = createApp(replica);
    const c = changes();
    const w = watch(replica.db, c.onChange, { checkMs: 300, backoffMs: [100, 400] });
    const server = restartParts(cluster);
    try {
      await replica.db.ping();
      expect((await request(app).get('/readyz')).status).toBe(200);

      server.stop();
      await expect(replica.db.ping(1000)).rejects.toBeInstanceOf(StoreUnavailable);
      const down = await request(app).get('/readyz');
      expect(down.status).toBe(503);
      expect(down.body.type).toBe('https://edumap.dev/problems/not_ready');
      expect(JSON.stringify(down.body)).not.toContain('127.0.0.1');
      await expect(replica.db.value('SELECT 1')).rejects.toBeInstanceOf(StoreUnavailable);
      const search = await request(app).get('/v1/resources').query({ near: '116.4,39.9' });
      expect(search.status).toBe(200); // queries are answered from the snapshot meanwhile

      server.start();
      cluster.pid = server.pid(); // so that afterAll stops this postmaster, not the one that is gone
      let ready = 0;
      for (const deadline = Date.now() + 10_000; ready !== 200 && Date.now() < deadline;) {
        ready = (await request(app).get('/readyz')).status;
        if (ready !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(ready).toBe(200);
      expect(await replica.db.value('SELECT 1')).toBe(1); // the pool dropped its dead connections
      const writer = await openStore(url);
      const generation = await writer.tx((t) => bumpGeneration(t));
      await writer.close();
      expect((await c.next((x) => x.generation === generation, 8000)).generation).toBe(generation);
      expect(w.reconnects).toBeGreaterThanOrEqual(1);
    } finally {
      await w.stop();
      await replica.close();
    }
  }, 90_000);
});
