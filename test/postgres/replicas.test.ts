import { PostgresDatabase } from '../../src/store/postgres.js';
import { formatShanghai } from '../../src/time.js';
import { restartParts, startCluster, stopCluster, stopPostmaster, type Cluster } from './cluster.mjs';
import { ADMIN_KEY, HEADER, csvLine, freePort, phoneNumber, startServer, type ServerProcess } from '../support.js';

// Two replicas as separate processes on separate loopback ports, over one PostgreSQL cluster of this file's
// own (a test stops and restarts it, which the suites sharing the run's cluster must never see). Each test
// gets a fresh database and a fresh pair of replicas.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Midnight (Asia/Shanghai) of the day after tomorrow: every slot below is in the future and released. */
const day0 = Date.parse(`${formatShanghai(new Date(Date.now() + 2 * DAY)).slice(0, 10)}T00:00:00+08:00`);
const at = (hours: number) => formatShanghai(new Date(day0 + hours * HOUR));
const admin = { Authorization: `Bearer ${ADMIN_KEY}` };
const museum = {
  id: 'replica-museum', name: '首都博物馆', type: 'museum', lng: 116.3376, lat: 39.9054, district: '西城区',
  tags: '智育|历史', stages: 'primary|junior', free: '是', booking_required: 'true', source: 'test',
};

let cluster: Cluster;
let databases = 0;
beforeAll(async () => {
  cluster = await startCluster();
}, 120_000);
afterAll(async () => {
  if (cluster) await stopCluster(cluster);
});

/** A fresh database on this file's cluster: its URL. */
async function freshDatabase(): Promise<string> {
  const name = `replicas_${++databases}`;
  const admin = PostgresDatabase.open(cluster.url, { poolSize: 1 });
  try {
    await admin.run(`CREATE DATABASE ${name}`);
  } finally {
    await admin.close();
  }
  return cluster.url.replace(/\/postgres$/, `/${name}`);
}

/** Replica processes started by a test, stopped after it whatever happened. */
const running: ServerProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop('SIGKILL')));
  if (!alive(cluster.pid)) start(); // a test that stopped the server and failed before starting it again
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts the stopped cluster again on its port and data directory. */
function start(): void {
  const server = restartParts(cluster);
  server.start();
  cluster.pid = server.pid();
}

/** Two replicas of `url`, started together (they migrate and seed under the lock, once). */
async function replicas(url: string, env: Record<string, string> = {}): Promise<[ServerProcess, ServerProcess]> {
  const started = await Promise.allSettled([startServer({ EDUMAP_DB: url, LOG_LEVEL: 'warn', ...env }, 60_000),
    startServer({ EDUMAP_DB: url, LOG_LEVEL: 'warn', ...env }, 60_000)]);
  for (const s of started) if (s.status === 'fulfilled') running.push(s.value);
  for (const s of started) if (s.status === 'rejected') throw s.reason;
  return running.slice(-2) as [ServerProcess, ServerProcess];
}

/** Sends a request; a connection that fails (a killed replica) is status 0. */
async function send(url: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  try {
    const res = await fetch(url, init);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : {} };
  } catch {
    return { status: 0, body: {} };
  }
}

function importCsv(replica: ServerProcess, rows: Record<string, string | number>[]) {
  return send(`${replica.url}/v1/imports`, { method: 'POST', headers: { ...admin, 'Content-Type': 'text/csv' }, body: [HEADER, ...rows.map(csvLine)].join('\n') });
}

/** The museum imported through `replica`, with one slot of `seats` individual places: the slot id. */
async function museumWithSlot(replica: ServerProcess, seats: number): Promise<number> {
  const imported = await importCsv(replica, [museum]);
  expect(imported).toMatchObject({ status: 200, body: { applied: true } });
  const made = await send(`${replica.url}/v1/resources/${museum.id}/slots`, {
    method: 'POST', headers: { ...admin, 'Content-Type': 'application/json' },
    body: JSON.stringify({ slots: [{ start: at(10), end: at(11), capacity: { individual: seats, group: 0 } }] }),
  });
  expect(made.status).toBe(201);
  return (made.body.items as { id: number }[])[0].id;
}

/** Books one place as visitor `n` (its own phone and Idempotency-Key). */
function book(replica: ServerProcess, slotId: number, n: number) {
  return send(`${replica.url}/v1/bookings`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', 'Idempotency-Key': `rush-${n}` },
    body: JSON.stringify({ slot_id: slotId, kind: 'individual', party_size: 1, contact: { name: `访客${n}`, phone: phoneNumber(n) } }),
  });
}

/** Reads the database itself: the slot's taken places and its confirmed bookings' ids. */
async function stored(url: string, slotId: number): Promise<{ taken: number; confirmed: string[] }> {
  const db = PostgresDatabase.open(url, { poolSize: 1 });
  try {
    const taken = Number(await db.value('SELECT taken_individual FROM slots WHERE id = ?', [slotId]));
    const confirmed = (await db.all<{ id: string }>("SELECT id FROM bookings WHERE slot_id = ? AND status = 'confirmed'", [slotId])).map((r) => r.id);
    return { taken, confirmed };
  } finally {
    await db.close();
  }
}

/** Polls `probe` every 25 ms until it is true or `ms` passed; answers whether it became true. */
async function eventually(probe: () => Promise<boolean>, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; ;) {
    if (await probe()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}

const statusOf = async (url: string) => (await send(url)).status;

test('200 concurrent bookings for 50 places over both replicas: exactly 50 confirmed, 150 × 409, and the database agrees', async () => {
  const url = await freshDatabase();
  const [a, b] = await replicas(url);
  const slotId = await museumWithSlot(a, 50);
  const answers = await Promise.all(Array.from({ length: 200 }, (_, n) => book(n % 2 ? b : a, slotId, n)));
  const statuses = answers.map((r) => r.status);
  expect(statuses.filter((s) => s === 201)).toHaveLength(50);
  expect(statuses.filter((s) => s === 409)).toHaveLength(150);
  expect(new Set(answers.filter((r) => r.status === 409).map((r) => r.body.type))).toEqual(new Set(['https://edumap.dev/problems/slot_full']));
  // Both replicas confirmed some: the rule held across processes, not inside one.
  expect(answers.filter((r, n) => r.status === 201 && n % 2 === 0).length).toBeGreaterThan(0);
  expect(answers.filter((r, n) => r.status === 201 && n % 2 === 1).length).toBeGreaterThan(0);
  const db = await stored(url, slotId);
  expect(db.taken).toBe(50);
  expect(db.confirmed.sort()).toEqual(answers.filter((r) => r.status === 201).map((r) => r.body.id as string).sort());
  // And each replica's availability says the slot is full.
  for (const r of [a, b]) {
    const slots = await send(`${r.url}/v1/resources/${museum.id}/slots?from=${encodeURIComponent(at(0))}&to=${encodeURIComponent(at(24))}`);
    expect((slots.body.items as { remaining: { individual: number } }[])[0].remaining.individual).toBe(0);
  }
}, 120_000);

test('an import through replica A is searchable on replica B within 1 s', async () => {
  const [a, b] = await replicas(await freshDatabase());
  const near = `${b.url}/v1/resources?near=116.3376,39.9054&limit=1`;
  expect((await send(near)).body.items).not.toEqual([expect.objectContaining({ id: museum.id })]);
  const imported = await importCsv(a, [museum]);
  expect(imported).toMatchObject({ status: 200, body: { applied: true, inserted: 1 } });
  const answered = Date.now();
  const seen = await eventually(async () => (await statusOf(`${b.url}/v1/resources/${museum.id}`)) === 200, 1000);
  const after = Date.now() - answered;
  expect({ seen, within_1s: after <= 1000 }).toEqual({ seen: true, within_1s: true });
  expect((await send(near)).body.items).toEqual([expect.objectContaining({ id: museum.id })]);
}, 120_000);

test('replica A killed with SIGKILL during a booking rush: every 201 is in the database, and replica B keeps answering', async () => {
  const url = await freshDatabase();
  const [a, b] = await replicas(url);
  const slotId = await museumWithSlot(a, 1000);
  const answers: { replica: 'a' | 'b'; status: number; id?: string }[] = [];
  let killed = false;
  // Each replica gets 150 bookings, 10 in flight at a time; A is killed once it has confirmed 20.
  const rush = (replica: ServerProcess, name: 'a' | 'b', first: number) => async (lane: number) => {
    for (let n = first + lane; n < first + 150; n += 10) {
      const r = await book(replica, slotId, n);
      answers.push({ replica: name, status: r.status, id: r.body.id as string | undefined });
      if (name === 'a' && !killed && answers.filter((x) => x.replica === 'a' && x.status === 201).length >= 20) {
        killed = true;
        a.child.kill('SIGKILL');
      }
    }
  };
  const lanes = Array.from({ length: 10 }, (_, lane) => lane);
  await Promise.all([...lanes.map(rush(a, 'a', 0)), ...lanes.map(rush(b, 'b', 1000))]);
  expect(killed).toBe(true);
  const ofA = answers.filter((x) => x.replica === 'a');
  const ofB = answers.filter((x) => x.replica === 'b');
  expect(ofA.filter((x) => x.status === 0).length).toBeGreaterThan(0); // the kill cut the rush short
  expect(ofB.map((x) => x.status)).toEqual(new Array(150).fill(201)); // B answered every one of its own
  const db = await stored(url, slotId);
  const confirmed = new Set(db.confirmed);
  for (const x of answers) if (x.status === 201) expect(confirmed.has(x.id!)).toBe(true);
  // A booking A committed but could not answer is in the database too: the count is the stored one.
  expect(db.taken).toBe(db.confirmed.length);
  expect(db.confirmed.length).toBeGreaterThanOrEqual(answers.filter((x) => x.status === 201).length);
  expect(await statusOf(`${b.url}/readyz`)).toBe(200);
  expect((await book(b, slotId, 5000)).status).toBe(201);
  expect((await send(`${b.url}/v1/resources?near=116.3376,39.9054&limit=1`)).status).toBe(200);
}, 120_000);

test('PostgreSQL restarted: both replicas answer 503 on /readyz while it is down and recover by themselves, with no lost update', async () => {
  const url = await freshDatabase();
  const [a, b] = await replicas(url);
  const slotId = await museumWithSlot(a, 10);
  const before = await book(a, slotId, 1);
  expect(before.status).toBe(201);
  const search = `${b.url}/v1/resources?near=116.3376,39.9054&limit=1`;
  // B answers with the museum (not before it has A's import: then another record, or none, was in memory,
  // and the search while PostgreSQL is down met a record it had to read, a 503), so its record is in memory.
  const nearest = async () => ((await send(search)).body.items as { id: string }[] | undefined)?.[0]?.id;
  expect(await eventually(async () => (await nearest()) === museum.id, 10_000)).toBe(true);

  await stopPostmaster(cluster.pid);
  for (const r of [a, b]) expect(await eventually(async () => (await statusOf(`${r.url}/readyz`)) === 503, 10_000)).toBe(true);
  const down = await send(`${b.url}/readyz`);
  expect(down.body).toMatchObject({ type: 'https://edumap.dev/problems/not_ready', status: 503 });
  expect(JSON.stringify(down.body)).not.toContain(String(cluster.port)); // no address of the database in answers
  // Meanwhile a search whose records are in memory is answered from the snapshot, and a booking is a 503, never a 500.
  expect(await statusOf(search)).toBe(200);
  const refused = await book(b, slotId, 2);
  expect(refused.status).toBe(503);

  start();
  for (const r of [a, b]) expect(await eventually(async () => (await statusOf(`${r.url}/readyz`)) === 200, 30_000)).toBe(true);

  // Writes after the restart reach the other replica (its listener reconnected, or its check caught them).
  const renamed = await importCsv(a, [{ ...museum, name: '首都博物馆(新馆)' }]);
  expect(renamed).toMatchObject({ status: 200, body: { applied: true, updated: 1 } });
  expect(await eventually(async () => (await send(`${b.url}/v1/resources/${museum.id}`)).body.name === '首都博物馆(新馆)', 10_000)).toBe(true);
  const after = await book(a, slotId, 3);
  expect(after.status).toBe(201);
  const slotsOnB = async () => (await send(`${b.url}/v1/resources/${museum.id}/slots?from=${encodeURIComponent(at(0))}&to=${encodeURIComponent(at(24))}`))
    .body.items as { remaining: { individual: number } }[] | undefined;
  expect(await eventually(async () => (await slotsOnB())?.[0].remaining.individual === 8, 10_000)).toBe(true);
  const db = await stored(url, slotId);
  expect(db.confirmed.sort()).toEqual([before.body.id, after.body.id].sort());
  expect(db.taken).toBe(2);
}, 180_000);

test('a replica started while PostgreSQL cannot be reached is alive, answers 503, and becomes ready by itself when it comes up', async () => {
  const url = await freshDatabase();
  await stopPostmaster(cluster.pid);
  const port = await freePort();
  const { spawn } = await import('node:child_process');
  const { ROOT, TEST_DATA_KEY, TEST_HASH_KEY } = await import('../support.js');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT, stdio: 'ignore',
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', EDUMAP_DB: url, EDUMAP_ADMIN_KEYS: ADMIN_KEY,
      EDUMAP_HASH_KEY: TEST_HASH_KEY, EDUMAP_DATA_KEY: TEST_DATA_KEY },
  });
  const replica = `http://127.0.0.1:${port}`;
  try {
    expect(await eventually(async () => (await statusOf(`${replica}/healthz`)) === 200, 30_000)).toBe(true);
    const ready = await send(`${replica}/readyz`);
    expect(ready).toMatchObject({ status: 503, body: { type: 'https://edumap.dev/problems/not_ready' } });
    expect(await statusOf(`${replica}/v1/resources?near=116.4,39.9`)).toBe(503);
    start();
    expect(await eventually(async () => (await statusOf(`${replica}/readyz`)) === 200, 40_000)).toBe(true);
    expect((await send(`${replica}/v1/resources?near=116.4,39.9&limit=1`)).status).toBe(200);
  } finally {
    child.kill('SIGKILL');
  }
}, 120_000);

test('the rate limit is one budget across replicas: 10 searches a minute, spent alternately on A and B', async () => {
  const [a, b] = await replicas(await freshDatabase(), { EDUMAP_RATE_SEARCH_PER_MIN: '10' });
  const statuses: number[] = [];
  for (let n = 0; n < 14; n++) statuses.push(await statusOf(`${(n % 2 ? b : a).url}/v1/resources?near=116.4,39.9&limit=1`));
  expect(statuses).toEqual([...new Array(10).fill(200), ...new Array(4).fill(429)]);
  const limited = await fetch(`${b.url}/v1/resources?near=116.4,39.9&limit=1`);
  expect(limited.status).toBe(429);
  expect(limited.headers.get('content-type')).toMatch(/application\/problem\+json/);
  expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  expect((await limited.json()).type).toBe('https://edumap.dev/problems/rate_limited');
}, 120_000);
