import request from 'supertest';
import { openStore } from '../../src/store/db.js';
import type { Database } from '../../src/store/sql.js';
import { openService, type Service } from '../../src/service.js';
import { createLogger } from '../../src/log.js';
import { formatShanghai } from '../../src/time.js';
import { HEADER, OPERATOR, csvLine, phoneNumber, testService, type TestService } from '../support.js';

// PostgreSQL runs write transactions at READ COMMITTED and takes no lock up front: the rules that SQLite's
// single writer kept by itself must hold here by their statements. Two services on one database stand for
// two replicas; each race is run many times at once.

const HOUR = 3_600_000;
const day0 = Date.parse(`${formatShanghai(new Date(Date.now() + 2 * 24 * HOUR)).slice(0, 10)}T00:00:00+08:00`);
const at = (hours: number) => formatShanghai(new Date(day0 + hours * HOUR));
const palace = { type: 'museum', tags: '智育', source: 'test', id: 'palace', name: '故宫博物院', lng: 116.3908, lat: 39.9163 };

let svc: TestService;
let replica: Service;
beforeEach(async () => {
  svc = await testService({ seed: false, config: { busyTimeoutMs: 300 } });
  await svc.importText([HEADER, csvLine(palace)].join('\n'));
  replica = await openService(svc.config, createLogger(svc.config), { onlyDistricts: true });
});
afterEach(async () => {
  await replica.close();
  await svc.close();
});

const booking = (slotId: number, k: number) => ({ slot_id: slotId, kind: 'individual' as const, party_size: 1, contact: { name: `家长${k}`, phone: phoneNumber(k) } });
const slotOf = async (hours: number, individual: number) =>
  (await svc.bookings.createSlots('palace', [{ start: at(hours), end: at(hours + 1), capacity: { individual } }], OPERATOR))[0].id;
/** Both replicas, alternately. */
const either = (k: number) => (k % 2 ? replica : svc).bookings;

/** Runs `fn` inside a transaction of its own connection that holds `lock` (a statement) until `release` is called. */
async function holding(url: string, lock: string): Promise<{ release: () => Promise<void> }> {
  const other: Database = await openStore(url);
  let release!: () => void;
  const released = new Promise<void>((r) => { release = r; });
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => { locked = r; });
  const done = other.tx(async (t) => {
    await t.run(lock);
    locked();
    await released;
  });
  await isLocked;
  return { release: async () => { release(); await done; await other.close(); } };
}

test('a lock held past the busy timeout is a 503, and the key is free for the retry', async () => {
  const slotId = await slotOf(9, 5);
  const lock = await holding(svc.config.dbPath, "UPDATE meta SET value = value WHERE key = 'slot_seq'"); // what every booking takes
  const res = await request(svc.app).post('/v1/bookings').set('Idempotency-Key', 'locked-out').send(booking(slotId, 1));
  expect(res.status).toBe(503);
  expect(res.body.type).toBe('https://edumap.dev/problems/busy');
  await lock.release();
  const retry = await request(svc.app).post('/v1/bookings').set('Idempotency-Key', 'locked-out').send(booking(slotId, 1));
  expect(retry.status).toBe(201);

  // Locked between the claim and the booking: the claim is released (in the background), then the retry books.
  let late: { release: () => Promise<void> } | undefined;
  await expect(svc.bookings.book(booking(slotId, 2), 'locked-mid', {
    afterClaim: async () => { late = await holding(svc.config.dbPath, "UPDATE meta SET value = value WHERE key = 'slot_seq'"); },
  })).rejects.toMatchObject({ code: 'busy' });
  await late!.release();
  let again = await svc.bookings.book(booking(slotId, 2), 'locked-mid').catch((e: { code: string }) => e);
  for (const deadline = Date.now() + 5000; 'code' in again && again.code === 'idempotency_in_progress' && Date.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 50));
    again = await svc.bookings.book(booking(slotId, 2), 'locked-mid').catch((e: { code: string }) => e);
  }
  expect(again).toMatchObject({ booking: { status: 'confirmed' } });
  expect(await svc.db.value('SELECT taken_individual FROM slots WHERE id = ?', [slotId])).toBe(2);
});

test('one Idempotency-Key sent 20 times at once to two replicas makes one booking; the others replay it or are told to wait', async () => {
  const slotId = await slotOf(9, 50);
  const body = booking(slotId, 7);
  const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, k) => either(k).book(body, 'the-same-key')));
  const made = outcomes.flatMap((o) => (o.status === 'fulfilled' && o.value.booking ? [o.value.booking.id] : []));
  const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [(o.reason as { code?: string }).code] : []));
  expect(new Set(made).size).toBe(1);
  expect(refused.every((code) => code === 'idempotency_in_progress')).toBe(true);
  expect(await svc.db.value('SELECT count(*) FROM bookings')).toBe(1);
  expect(await svc.db.value('SELECT taken_individual FROM slots WHERE id = ?', [slotId])).toBe(1);
});

test('the same slot created 10 times at once on two replicas exists once; the others are 409 slot_overlap', async () => {
  const slot = { start: at(14), end: at(15), capacity: { individual: 5 } };
  const outcomes = await Promise.allSettled(Array.from({ length: 10 }, (_, k) => either(k).createSlots('palace', [slot], OPERATOR)));
  expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
  expect(outcomes.flatMap((o) => (o.status === 'rejected' ? [(o.reason as { code?: string }).code] : []))).toEqual(new Array(9).fill('slot_overlap'));
  expect(await svc.db.value('SELECT count(*) FROM slots WHERE resource_id = ?', ['palace'])).toBe(1);
});

test('a slot closed while 30 bookings race for it keeps none of them confirmed', async () => {
  for (let round = 0; round < 3; round++) {
    const slotId = await slotOf(9 + round, 100);
    const racing = Array.from({ length: 30 }, (_, k) => either(k).book(booking(slotId, 100 * round + k), `race-${round}-${k}`).catch(() => undefined));
    await new Promise((r) => setTimeout(r, 5 * round));
    const closed = await replica.bookings.admin.close(slotId, OPERATOR);
    await Promise.all(racing);
    expect(await svc.db.value("SELECT count(*) FROM bookings WHERE slot_id = ? AND status = 'confirmed'", [slotId])).toBe(0);
    expect(await svc.db.get('SELECT taken_individual, capacity_individual FROM slots WHERE id = ?', [slotId])).toEqual({ taken_individual: 0, capacity_individual: 0 });
    expect(closed.cancelled.length).toBe(await svc.db.value("SELECT count(*) FROM bookings WHERE slot_id = ? AND status = 'cancelled_by_venue'", [slotId]));
  }
});

test('joining a full waitlist while its one seat is given back never leaves an entry waiting beside a free seat', async () => {
  for (let round = 0; round < 4; round++) {
    const slotId = await slotOf(9 + round, 1);
    const held = (await svc.bookings.book(booking(slotId, 500 + round), `held-${round}`)).booking!;
    const joins = Array.from({ length: 6 }, (_, k) => either(k).waitlist.join(booking(slotId, 600 + 10 * round + k), `join-${round}-${k}`));
    const cancelling = replica.bookings.cancel(held.id, held.token!);
    const answers = await Promise.all(joins);
    await cancelling;
    for (const a of answers) if (a.error) expect(a.error.code).toBe('slot_has_room');
    const free = (await svc.db.value<number>('SELECT capacity_individual - taken_individual FROM slots WHERE id = ?', [slotId]))!;
    const waiting = (await svc.db.value<number>("SELECT count(*) FROM waitlist WHERE slot_id = ? AND status = 'waiting'", [slotId]))!;
    expect({ round, free, waitingBesideFree: free > 0 ? waiting : 0 }).toEqual({ round, free, waitingBesideFree: 0 });
  }
});

test('two imports at once on two replicas both apply, one after the other', async () => {
  const rows = (prefix: string) => [HEADER, ...Array.from({ length: 50 }, (_, k) => csvLine({ ...palace, id: `${prefix}-${k}`, lng: 116.39 + k / 1e4 }))].join('\n');
  const { Readable } = await import('node:stream');
  const { importCsv } = await import('../../src/import/csv.js');
  const run = (s: Service, prefix: string) => importCsv(Readable.from([rows(prefix)]), { db: s.db, tax: s.tax, areas: s.holder.current.areas });
  const [a, b] = await Promise.all([run(svc, 'a'), run(replica, 'b')]);
  expect([a.inserted, b.inserted]).toEqual([50, 50]);
  expect(await svc.db.value("SELECT count(DISTINCT id) FROM resources WHERE deleted = 0 AND id <> 'palace'")).toBe(100);
});
