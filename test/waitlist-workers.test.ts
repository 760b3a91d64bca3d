import { formatShanghai } from '../src/time.js';
import { HEADER, csvLine, phoneNumber, startServer, testService, type ServerProcess, type TestService, OPERATOR } from './support.js';

// The waitlist across real worker processes on one database file: promotions happen in the transaction
// that frees the places, so no place is given twice and the order of joining holds.

const HOUR = 3_600_000;
const day = Date.parse(`${formatShanghai(new Date(Date.now() + 2 * 24 * HOUR)).slice(0, 10)}T00:00:00+08:00`);
const at = (hours: number) => formatShanghai(new Date(day + hours * HOUR));

let svc: TestService;
let server: ServerProcess | undefined;
beforeAll(async () => {
  svc = await testService({ seed: false });
  await svc.importText([HEADER, csvLine({ id: 'museum', name: '首都博物馆', type: 'museum', lng: 116.3434, lat: 39.9055, tags: 'zhi', source: 'test' })].join('\n'));
});
afterAll(async () => {
  await server?.stop('SIGKILL');
  await svc.close();
});

async function post(path: string, key: string, body: object): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server!.url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() as Record<string, unknown> };
}

test('10 seats, 10 booked, 40 waiting from 3 workers; 10 cancellations in parallel promote exactly the first 10 waiting, in order', async () => {
  const [slot] = await svc.bookings.createSlots('museum', [{ start: at(9), end: at(10), capacity: { individual: 10 } }], OPERATOR);
  server = await startServer({ EDUMAP_DB: svc.config.dbPath, WORKERS: '3', EDUMAP_POLL_MS: '200' });
  const deadline = Date.now() + 30_000;
  while ((server.output().match(/"msg":"edumap listening"/g) ?? []).length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const body = (n: number) => ({ slot_id: slot.id, kind: 'individual', party_size: 1, contact: { name: `家长${n}`, phone: phoneNumber(n) } });

  const booked = await Promise.all(Array.from({ length: 10 }, (_, n) => post('/v1/bookings', `b-${n}`, body(n))));
  expect(booked.map((b) => b.status)).toEqual(new Array(10).fill(201));
  const joined = await Promise.all(Array.from({ length: 40 }, (_, n) => post('/v1/waitlist', `w-${n}`, body(100 + n))));
  expect(joined.map((j) => j.status)).toEqual(new Array(40).fill(201));

  const cancelled = await Promise.all(booked.map((b) => fetch(`${server!.url}/v1/bookings/${b.body.id}`, {
    method: 'DELETE', headers: { Authorization: `Bearer ${b.body.token}` },
  }).then((r) => r.status)));
  expect(cancelled).toEqual(new Array(10).fill(200));

  const db = svc.db;
  const entries = await db.all<{ seq: number; id: string; status: string; booking_id: string | null }>(
    'SELECT seq, id, status, booking_id FROM waitlist WHERE slot_id = ? ORDER BY seq', [slot.id]);
  expect(entries).toHaveLength(40);
  expect(entries.slice(0, 10).every((e) => e.status === 'promoted' && e.booking_id)).toBe(true);
  expect(entries.slice(10).every((e) => e.status === 'waiting' && e.booking_id === null)).toBe(true);
  expect(new Set(entries.map((e) => e.booking_id).filter(Boolean)).size).toBe(10); // no entry promoted twice, no booking shared
  const taken = await db.get('SELECT taken_individual, capacity_individual FROM slots WHERE id = ?', [slot.id]);
  expect(taken).toEqual({ taken_individual: 10, capacity_individual: 10 });
  const confirmed = (await db.all<{ id: string }>("SELECT id FROM bookings WHERE slot_id = ? AND status = 'confirmed' ORDER BY id", [slot.id])).map((r) => r.id);
  expect(confirmed).toEqual(entries.slice(0, 10).map((e) => e.booking_id).sort());
  expect(await db.value("SELECT coalesce(sum(party_size), 0) FROM bookings WHERE slot_id = ? AND status = 'confirmed'", [slot.id])).toBe(10);
  // Every worker took part.
  const workers = new Set(server.output().split('\n').filter((l) => l.includes('"route":"/v1/waitlist"')).map((l) => (JSON.parse(l) as { worker: number }).worker));
  expect(workers.size).toBe(3);
  expect(server.output()).not.toMatch(/"level":50/);
}, 120_000);
