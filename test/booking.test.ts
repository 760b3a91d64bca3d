import request from 'supertest';
import Database from 'better-sqlite3';
import { SlotStore, type NewSlot } from '../src/store/slots.js';
import { openStore } from '../src/store/db.js';
import { SqliteDatabase } from '../src/store/sqlite.js';
import { formatShanghai } from '../src/time.js';
import { ADMIN_KEY, HEADER, csvLine, phoneNumber, residentId, sqliteOnly, testService, type TestService } from './support.js';

const base = {
  type: 'museum', tags: '智育|历史', stages: 'primary|junior', opening_hours: 'Tu-Su 09:00-17:00; PH off',
  free: '是', booking_required: 'true', source: 'test',
};
const palace = { ...base, id: 'palace', name: '故宫博物院', lng: 116.3908, lat: 39.9163, district: '东城区' };
const nationalMuseum = { ...base, id: 'nmc', name: '中国国家博物馆', lng: 116.3974, lat: 39.9051, district: '东城区' };
const library = { ...base, id: 'nlc', name: '中国国家图书馆', type: 'library', lng: 116.3236, lat: 39.9425, district: '110108', tags: 'zhi.reading' };

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Midnight (Asia/Shanghai) of the day after tomorrow, so that every slot below is in the future. */
const day0 = Date.parse(`${formatShanghai(new Date(Date.now() + 2 * DAY)).slice(0, 10)}T00:00:00+08:00`);
const at = (hours: number, days = 0) => formatShanghai(new Date(day0 + days * DAY + hours * HOUR));

let svc: TestService;
let key = 0;
beforeEach(async () => {
  svc = await testService({ seed: false });
  const report = await svc.importText([HEADER, csvLine(palace), csvLine(nationalMuseum), csvLine(library)].join('\n'));
  expect(report.inserted).toBe(3);
});
afterEach(() => svc.close());

const admin = { Authorization: `Bearer ${ADMIN_KEY}` };

/** Slots written straight to the store, past the API's checks (one that has started, one close to its start). */
const insertSlots = (slots: NewSlot[]) => svc.db.tx((t) => svc.bookings.slots.insert(t, slots, 'test'));

async function createSlots(resource: string, slots: object[]) {
  const res = await request(svc.app).post(`/v1/resources/${resource}/slots`).set(admin).send({ slots });
  expect(res.status).toBe(201);
  return res.body.items as { id: number; remaining: { individual: number; group: number } }[];
}

function booking(slotId: number, extra: Record<string, unknown> = {}) {
  return { slot_id: slotId, kind: 'individual', party_size: 1, contact: { name: '王小明', phone: phoneNumber(1) }, ...extra };
}

function book(body: object, idempotencyKey = `key-${++key}`) {
  return request(svc.app).post('/v1/bookings').set('Idempotency-Key', idempotencyKey).send(body);
}

const remaining = async (resource: string, slotId: number) => {
  const res = await request(svc.app).get(`/v1/resources/${resource}/slots`).query({ from: at(0, -1), to: at(0, 20) });
  return res.body.items.find((s: { id: number }) => s.id === slotId).remaining as { individual: number; group: number };
};

describe('slots', () => {
  const slot = { start: at(9), end: at(10), capacity: { individual: 50, group: 100 }, group_size: { min: 15, max: 60 } };

  test('an admin creates slots; they are listed with capacity and remaining places per kind', async () => {
    const items = await createSlots('palace', [slot, { ...slot, start: at(10), end: at(11) }]);
    expect(items).toHaveLength(2);
    const res = await request(svc.app).get('/v1/resources/palace/slots').query({ from: at(0), to: at(24) });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ resource_id: 'palace', count: 2 });
    expect(res.body.items[0]).toEqual({
      id: items[0].id, resource_id: 'palace', start: at(9), end: at(10),
      capacity: { individual: 50, group: 100 }, remaining: { individual: 50, group: 100 }, group_size: { min: 15, max: 60 },
    });
    const later = await request(svc.app).get('/v1/resources/palace/slots').query({ from: at(10), to: at(24) });
    expect(later.body.items.map((s: { start: string }) => s.start)).toEqual([at(10)]);
  });

  test('a time without an offset is Asia/Shanghai', async () => {
    const local = at(9).replace('+08:00', '');
    const [made] = await createSlots('palace', [{ ...slot, start: local, end: at(10).replace('+08:00', '') }]);
    expect((made as unknown as { start: string }).start).toBe(at(9));
  });

  test('without an admin key it is a 401, with a wrong one a 403', async () => {
    const none = await request(svc.app).post('/v1/resources/palace/slots').send({ slots: [slot] });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/Bearer/);
    const wrong = await request(svc.app).post('/v1/resources/palace/slots').set('Authorization', 'Bearer not-the-admin-key-at-all').send({ slots: [slot] });
    expect(wrong.status).toBe(403);
    expect(wrong.body.type).toBe('https://edumap.dev/problems/forbidden');
  });

  test('malformed slots are a 400 naming each field', async () => {
    const res = await request(svc.app).post('/v1/resources/palace/slots').set(admin).send({ slots: [
      { ...slot, start: 'tomorrow morning' },
      { ...slot, start: at(12), end: at(11) },
      { ...slot, start: at(13), end: at(14), capacity: { individual: 0, group: 0 } },
      { ...slot, start: at(14), end: at(15), group_size: { min: 30, max: 20 } },
      { ...slot, start: formatShanghai(new Date(Date.now() - HOUR)), end: formatShanghai(new Date(Date.now() + HOUR)) },
    ] });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual([
      'body.slots[0].start', 'body.slots[1].end', 'body.slots[2].capacity', 'body.slots[3].group_size', 'body.slots[4].start',
    ]);
  });

  test('the contract rejects unknown fields and wrong types, naming them', async () => {
    const res = await request(svc.app).post('/v1/resources/palace/slots').set(admin)
      .send({ slots: [{ ...slot, colour: 'red', capacity: { individual: -1 } }] });
    expect(res.status).toBe(400);
    const paths = res.body.errors.map((e: { path: string }) => e.path);
    expect(paths).toContain('body.slots[0].colour');
    expect(paths).toContain('body.slots[0].capacity.individual');
    const empty = await request(svc.app).post('/v1/resources/palace/slots').set(admin).send({ slots: [] });
    expect(empty.status).toBe(400);
    expect(empty.body.errors[0].path).toBe('body.slots');
  });

  test('slots that overlap each other or a stored slot are a 409 naming the slot; nothing is created', async () => {
    const clash = await request(svc.app).post('/v1/resources/palace/slots').set(admin)
      .send({ slots: [slot, { ...slot, start: at(9.5), end: at(10.5) }] });
    expect(clash.status).toBe(409);
    expect(clash.body).toMatchObject({ type: 'https://edumap.dev/problems/slot_overlap', errors: [{ path: 'body.slots[1]' }] });

    await createSlots('palace', [slot]);
    const duplicate = await request(svc.app).post('/v1/resources/palace/slots').set(admin)
      .send({ slots: [{ ...slot, start: at(10), end: at(11) }, slot] });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.errors[0].path).toBe('body.slots[1]');
    expect(duplicate.body.detail).toMatch(/overlaps slot \d+/);
    const listed = await request(svc.app).get('/v1/resources/palace/slots').query({ from: at(0), to: at(24) });
    expect(listed.body.count).toBe(1); // the valid 10:00 slot of the refused request was not created either
  });

  test('touching slots do not overlap; other resources are independent', async () => {
    await createSlots('palace', [slot, { ...slot, start: at(10), end: at(11) }]);
    await createSlots('nmc', [slot]);
  });

  test('an unknown resource is a 404; a non-JSON body a 415; schedules are admin-only too', async () => {
    const forbidden = await request(svc.app).post('/v1/resources/palace/schedule').set('Authorization', 'Bearer not-the-admin-key-at-all')
      .send({ capacity: { individual: 1 } });
    expect(forbidden.status).toBe(403);
    expect((await request(svc.app).post('/v1/resources/nowhere/schedule').set(admin).send({ capacity: { individual: 1 } })).status).toBe(404);
    const res = await request(svc.app).post('/v1/resources/nowhere/slots').set(admin).send({ slots: [slot] });
    expect(res.status).toBe(404);
    expect((await request(svc.app).get('/v1/resources/nowhere/slots')).status).toBe(404);
    const text = await request(svc.app).post('/v1/resources/palace/slots').set(admin).set('Content-Type', 'text/plain').send('slots');
    expect(text.status).toBe(415);
  });

  test('a listing with a bad range is a 400 naming the field', async () => {
    const bad = await request(svc.app).get('/v1/resources/palace/slots').query({ from: 'soon' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ path: 'query.from', message: expect.any(String) }]);
    const backwards = await request(svc.app).get('/v1/resources/palace/slots').query({ from: at(10), to: at(9) });
    expect(backwards.body.errors[0].path).toBe('query.to');
    const unknown = await request(svc.app).get('/v1/resources/palace/slots').query({ since: at(1) });
    expect(unknown.body.errors[0]).toEqual({ path: 'query.since', message: 'is not a known parameter' });
  });
});

describe('schedules', () => {
  /** The Monday of the week two weeks after the next public holiday that falls on Tuesday–Sunday. */
  test('weekly hours become slots for the coming days: closed on Mondays and public holidays, and on closed_dates', async () => {
    // Three weeks from a Monday: the Monday never has slots.
    const firstMonday = day0 + ((8 - new Date(day0 + 8 * HOUR).getUTCDay()) % 7) * DAY;
    const from = formatShanghai(new Date(firstMonday)).slice(0, 10);
    const closed = formatShanghai(new Date(firstMonday + 2 * DAY)).slice(0, 10); // a Wednesday
    const res = await request(svc.app).post('/v1/resources/palace/schedule').set(admin).send({
      hours: 'Tu-Su 09:00-12:00', slot_minutes: 60, from, days: 7, closed_dates: [closed],
      capacity: { individual: 100, group: 60 },
    });
    expect(res.status).toBe(201);
    // Tuesday to Sunday is six days, less the closed Wednesday: five days of three slots.
    expect(res.body).toMatchObject({ created: 15, unchanged: 0 });
    const days = new Set(res.body.items.map((s: { start: string }) => s.start.slice(0, 10)));
    expect(days.has(from)).toBe(false);
    expect(days.has(closed)).toBe(false);
    expect(res.body.items[0]).toMatchObject({ start: `${formatShanghai(new Date(firstMonday + DAY)).slice(0, 10)}T09:00:00+08:00`,
      capacity: { individual: 100, group: 60 }, group_size: { min: 15, max: 200 } });

    const again = await request(svc.app).post('/v1/resources/palace/schedule').set(admin).send({
      hours: 'Tu-Su 09:00-12:00', slot_minutes: 60, from, days: 14, closed_dates: [closed], capacity: { individual: 100, group: 60 },
    });
    expect(again.body).toMatchObject({ created: 18, unchanged: 15 });
  });

  test('a schedule that would make more than 1,000 slots is a 400 naming body.days; nothing is created', async () => {
    const res = await request(svc.app).post('/v1/resources/palace/schedule').set(admin).send({
      hours: '24/7', slot_minutes: 5, days: 92, capacity: { individual: 5 },
    });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].path).toBe('body.days');
    const list = await request(svc.app).get('/v1/resources/palace/slots');
    expect(list.body.count).toBe(0);
  });

  test("PH off leaves out the calendar's public holidays, the lunar ones (春节) too", async () => {
    const today = formatShanghai(new Date(day0)).slice(0, 10);
    const next = svc.holder.current.calendar.days(today, `${Number(today.slice(0, 4)) + 1}-12-31`);
    const holiday = next.find((d) => d.holiday === '春节')!.date;
    const res = await request(svc.app).post('/v1/resources/palace/schedule').set(admin).send({
      hours: 'Mo-Su 09:00-17:00; PH off', from: holiday, days: 1, capacity: { individual: 100 },
    });
    expect(res.status).toBe(201);
    expect(res.body.created).toBe(0);
    const normal = await request(svc.app).post('/v1/resources/palace/schedule').set(admin).send({
      hours: 'Mo-Su 09:00-17:00', from: holiday, days: 1, capacity: { individual: 100 },
    });
    expect(normal.body.created).toBe(1); // one slot per open interval without slot_minutes: a daily cap
  });

  test('the answer says what a schedule left: 09:00-16:00 in 120-minute slots keeps 15:00–16:00, or lists it with drop', async () => {
    const from = formatShanghai(new Date(day0)).slice(0, 10);
    const send = (extra: object) => request(svc.app).post('/v1/resources/nlc/schedule').set(admin)
      .send({ hours: 'Mo-Su 09:00-16:00', slot_minutes: 120, from, days: 1, capacity: { individual: 10 }, ...extra });
    const dropped = await send({ last_slot: 'drop' });
    expect(dropped.status).toBe(201);
    expect(dropped.body).toMatchObject({ created: 3, leftover: [{ date: from, from: at(15), to: at(16) }], holidays: [] });
    expect(dropped.body.warnings).toEqual([expect.stringContaining('last_slot: drop')]);
    const kept = await send({});
    expect(kept.body).toMatchObject({ created: 1, unchanged: 3, leftover: [], items: [{ start: at(15), end: at(16) }] });
    expect(kept.body.warnings).toEqual([expect.stringContaining('last_slot: short')]);
    expect((await send({ last_slot: 'trim' })).body.errors[0]).toEqual({ path: 'body.last_slot', message: 'must be one of short, extend, drop' });
    expect((await send({ holidays: 'weekday' })).body.errors[0]).toEqual({ path: 'body.holidays', message: 'must be one of hours, closed, open, as_weekday' });
  });

  test('holidays: closed leaves out the next 春节 even when the hours open every day, and lists it', async () => {
    const today = formatShanghai(new Date(day0)).slice(0, 10);
    const holiday = svc.holder.current.calendar.days(today, `${Number(today.slice(0, 4)) + 1}-12-31`).find((d) => d.holiday === '春节')!.date;
    const res = await request(svc.app).post('/v1/resources/palace/schedule').set(admin)
      .send({ hours: 'Mo-Su 09:00-17:00', holidays: 'closed', from: holiday, days: 1, capacity: { individual: 100 } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ created: 0, holidays: [{ date: holiday, holiday: '春节', slots: 0 }] });
  });

  test("without hours the resource's own opening_hours are used", async () => {
    const from = formatShanghai(new Date(day0)).slice(0, 10);
    const res = await request(svc.app).post('/v1/resources/palace/schedule').set(admin).send({ from, days: 7, capacity: { individual: 10 } });
    expect(res.status).toBe(201);
    expect(res.body.created).toBeGreaterThanOrEqual(5); // Tu-Su, less a holiday at most
    expect(res.body.items.every((s: { start: string; end: string }) => s.start.endsWith('T09:00:00+08:00') && s.end.endsWith('T17:00:00+08:00'))).toBe(true);
  });

  test('bad hours, dates and quotas are a 400 naming the field; a clash with a stored slot a 409', async () => {
    const send = (body: object) => request(svc.app).post('/v1/resources/palace/schedule').set(admin).send(body);
    expect((await send({ hours: 'Tu-Su 09:00-17:0x', capacity: { individual: 1 } })).body.errors[0].path).toBe('body.hours');
    expect((await send({ from: '2026-02-30', capacity: { individual: 1 } })).body.errors[0].path).toBe('body.from');
    expect((await send({ closed_dates: ['someday'], capacity: { individual: 1 } })).body.errors[0].path).toBe('body.closed_dates[0]');
    expect((await send({ capacity: { individual: 0 } })).body.errors[0].path).toBe('body.capacity');
    expect((await send({ capacity: { individual: 1 }, days: 500 })).body.errors[0].path).toBe('body.days');

    await createSlots('palace', [{ start: at(9.5, 1), end: at(10.5, 1), capacity: { individual: 5 } }]);
    const clash = await send({ hours: 'Mo-Su 09:00-12:00', slot_minutes: 60, from: at(0).slice(0, 10), days: 3, capacity: { individual: 1 } });
    expect(clash.status).toBe(409);
    expect(clash.body.errors[0].path).toBe('body.hours');
    const fine = await request(svc.app).post('/v1/resources/nmc/schedule').set(admin).send({ capacity: { individual: 1 } });
    expect(fine.status).toBe(201);
    expect((await request(svc.app).post('/v1/resources/palace/schedule').send({ capacity: { individual: 1 } })).status).toBe(401);
  });
});

describe('bookings', () => {
  let slotId: number;
  beforeEach(async () => {
    [{ id: slotId }] = await createSlots('palace', [{ start: at(9), end: at(10), capacity: { individual: 5, group: 60 }, group_size: { min: 15, max: 40 } }]);
  });

  test('a booking is confirmed with a token; the phone is masked; the token reads it back', async () => {
    const res = await book(booking(slotId, { party_size: 3, contact: { name: '王小明', phone: '+86 138-1234-5678' }, visitor_ids: [residentId(1), residentId(2)] }));
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/v1/bookings/${res.body.id}`);
    expect(res.headers['idempotent-replayed']).toBe('false');
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^bk_[\w-]{16}$/), status: 'confirmed', kind: 'individual', party_size: 3,
      slot: { id: slotId, resource_id: 'palace', start: at(9), end: at(10) }, resource: { id: 'palace', name: '故宫博物院' },
      contact: { name: '王小明', phone: '138****5678' }, visitors: 2, cancel_before: at(7), cancelled_at: null,
      token: expect.stringMatching(/^[\w-]{43}$/),
    });
    expect(JSON.stringify(res.body)).not.toContain(residentId(1));
    expect(await remaining('palace', slotId)).toEqual({ individual: 2, group: 60 });

    const read = await request(svc.app).get(`/v1/bookings/${res.body.id}`).set('Authorization', `Bearer ${res.body.token}`);
    expect(read.status).toBe(200);
    const { token: _token, ...rest } = res.body;
    expect(read.body).toEqual(rest);
  });

  test('reading without a token is a 401; with a wrong token or an unknown id a 404; a malformed id a 400', async () => {
    const { body } = await book(booking(slotId));
    expect((await request(svc.app).get(`/v1/bookings/${body.id}`)).status).toBe(401);
    const wrong = await request(svc.app).get(`/v1/bookings/${body.id}`).set('Authorization', `Bearer ${body.token.slice(0, -2)}xx`);
    expect(wrong.status).toBe(404);
    const unknown = await request(svc.app).get('/v1/bookings/bk_AAAAAAAAAAAAAAAA').set('Authorization', `Bearer ${body.token}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toBe(wrong.body.detail.replace(body.id, 'bk_AAAAAAAAAAAAAAAA')); // nothing tells them apart
    const malformed = await request(svc.app).get('/v1/bookings/12345').set('Authorization', `Bearer ${body.token}`);
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors[0].path).toBe('path.id');
  });

  test('the same Idempotency-Key and body replay the first answer; no second booking is made', async () => {
    const first = await book(booking(slotId, { party_size: 2 }), 'retry-me');
    const again = await book({ party_size: 2, slot_id: slotId, contact: { phone: phoneNumber(1), name: '王小明' }, kind: 'individual' }, 'retry-me');
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body); // the same id and the same token
    expect(await remaining('palace', slotId)).toEqual({ individual: 3, group: 60 });
  });

  test('the same Idempotency-Key with another body is a 422', async () => {
    await book(booking(slotId), 'mine');
    const res = await book(booking(slotId, { party_size: 2 }), 'mine');
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ type: 'https://edumap.dev/problems/idempotency_mismatch', errors: [{ path: 'header.idempotency-key' }] });
    expect(await remaining('palace', slotId)).toEqual({ individual: 4, group: 60 });
  });

  test('a key whose first request is still in progress (in another process) is a 409; an abandoned claim is taken over', async () => {
    const body = booking(slotId);
    const store = svc.bookings.idempotency.store;
    const { Hasher } = await import('../src/booking/privacy.js');
    const { requestFingerprint } = await import('../src/booking/rules.js');
    const hmac = new Hasher(svc.config.hashKey).request(requestFingerprint(body as never));
    await store.claim(svc.db, 'busy-key', hmac, Date.now() + 60_000, Date.now());
    const res = await book(body, 'busy-key');
    expect(res.status).toBe(409);
    expect(res.body.type).toBe('https://edumap.dev/problems/idempotency_in_progress');
    expect(await remaining('palace', slotId)).toEqual({ individual: 5, group: 60 });

    await store.claim(svc.db, 'dead-key', hmac, Date.now() - 1, Date.now() - 60_000); // its process died mid-request
    const taken = await book(body, 'dead-key');
    expect(taken.status).toBe(201);
  });

  test('a concurrent duplicate in the same process, between claim and booking, is a 409', async () => {
    const body = booking(slotId) as never;
    let inner: unknown;
    const outcome = await svc.bookings.book(body, 'k-1', {
      afterClaim: async () => {
        try {
          await svc.bookings.book(body, 'k-1');
        } catch (e) {
          inner = e;
        }
      },
    });
    expect(outcome.booking?.status).toBe('confirmed');
    expect(inner).toMatchObject({ code: 'idempotency_in_progress', status: 409 });
    expect(await svc.bookings.book(body, 'k-1')).toMatchObject({ replayed: true, booking: { id: outcome.booking!.id } });
  });

  test('a body over 16 kB is a 413, a body that is not JSON a 415', async () => {
    const big = await book(booking(slotId, { contact: { name: '王'.repeat(6000), phone: phoneNumber(1) } }));
    expect(big.status).toBe(413);
    const form = await request(svc.app).post('/v1/bookings').set('Idempotency-Key', 'form').type('form').send({ slot_id: slotId });
    expect(form.status).toBe(415);
  });

  // SQLite's file lock held by a second connection; PostgreSQL's row locks: test/postgres/concurrency.test.ts.
  sqliteOnly('a database locked past the busy timeout is a 503, and the key is free for the retry', async () => {
    (svc.db as SqliteDatabase).patienceMs = 50;
    const other = new Database(svc.config.dbPath); // another process holding the write lock
    other.prepare('BEGIN IMMEDIATE').run();
    const res = await book(booking(slotId), 'locked-out');
    expect(res.status).toBe(503);
    expect(res.body.type).toBe('https://edumap.dev/problems/busy');
    other.prepare('ROLLBACK').run();

    // Locked between the claim and the booking: the claim is released, not left in progress.
    const body = booking(slotId) as never;
    await expect(svc.bookings.book(body, 'locked-mid', { afterClaim: () => void other.prepare('BEGIN IMMEDIATE').run() }))
      .rejects.toMatchObject({ code: 'busy' });
    // The release itself met the lock: it is tried again in the background; meanwhile a retry meets the lock too.
    expect((await book(body, 'locked-mid')).status).toBe(503);
    other.prepare('ROLLBACK').run();
    other.close();
    expect((await book(body, 'locked-out')).status).toBe(201);
    let retry = await book(body, 'locked-mid');
    for (const deadline = Date.now() + 5_000; retry.status === 409 && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 50));
      retry = await book(body, 'locked-mid');
    }
    expect(retry.status).toBe(201);
    expect(await remaining('palace', slotId)).toEqual({ individual: 3, group: 60 });
  });

  sqliteOnly('waiting for another process to release the write lock blocks neither this process nor its reads', async () => {
    const other = new Database(svc.config.dbPath); // an import in another process, between two of its transactions
    other.prepare('BEGIN IMMEDIATE').run();
    let settled = false;
    const pending = book(booking(slotId), 'waits').then((res) => {
      settled = true;
      return res;
    });
    await new Promise((r) => setTimeout(r, 300)); // SQLite's own busy wait would hold the thread: no timer fires
    const read = await request(svc.app).get('/v1/resources/palace');
    expect(read.status).toBe(200);
    expect(settled).toBe(false); // the booking is still waiting for the lock, not refused
    other.prepare('ROLLBACK').run();
    other.close();
    expect((await pending).status).toBe(201);
    expect(await remaining('palace', slotId)).toEqual({ individual: 4, group: 60 });
  });

  test('a request whose claim was taken over meanwhile books nothing and stores no answer', async () => {
    const body = booking(slotId) as never;
    const store = svc.bookings.idempotency.store;
    await expect(svc.bookings.book(body, 'slow', {
      afterClaim: async () => {
        // It stalled past its lease and another request took the key over.
        const mine = (await store.get(svc.db, 'slow'))!.locked_until_ms!;
        await svc.db.tx((t) => store.relock(t, 'slow', mine + 60_000, mine));
      },
    })).rejects.toMatchObject({ code: 'idempotency_in_progress' });
    expect(await remaining('palace', slotId)).toEqual({ individual: 5, group: 60 });
    expect(await store.get(svc.db, 'slow')).toMatchObject({ status: null, response: null });
  });

  test('an Idempotency-Key is required and at most 255 printable ASCII characters', async () => {
    const none = await request(svc.app).post('/v1/bookings').send(booking(slotId));
    expect(none.status).toBe(400);
    expect(none.body.errors).toEqual([{ path: 'header.idempotency-key', message: expect.stringMatching(/required/) }]);
    const bad = await book(booking(slotId), 'k'.repeat(256));
    expect(bad.body.errors[0].path).toBe('header.idempotency-key');
  });

  test('a full slot is a 409 naming the places left and the nearest alternatives with room', async () => {
    const [{ id: later }] = await createSlots('palace', [{ start: at(14), end: at(15), capacity: { individual: 5 } }]);
    const [{ id: nearby }] = await createSlots('nmc', [{ start: at(10), end: at(11), capacity: { individual: 8 } }]);
    await createSlots('nlc', [{ start: at(10), end: at(11), capacity: { individual: 1 } }]); // too small
    expect((await book(booking(slotId, { party_size: 4 }))).status).toBe(201);
    const res = await book(booking(slotId, { party_size: 2 }));
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      type: 'https://edumap.dev/problems/slot_full', remaining: { individual: 1, group: 60 },
      alternatives: {
        slots: [{ id: later, start: at(14), remaining: { individual: 5 } }],
        resources: [{ id: 'nmc', name: '中国国家博物馆', distance_m: expect.any(Number), slot: { id: nearby, start: at(10), remaining: { individual: 8, group: 0 } } }],
      },
    });
    expect(res.body.alternatives.resources).toHaveLength(1);
    expect(res.body.alternatives.resources[0].distance_m).toBeGreaterThan(1000);
    expect(res.body.alternatives.resources[0].distance_m).toBeLessThan(1500);
  });

  test('a replayed 409 is the same error with the alternatives as of now', async () => {
    await book(booking(slotId, { party_size: 5 }));
    const first = await book(booking(slotId), 'full-key');
    expect(first.status).toBe(409);
    expect(first.body.alternatives.slots).toEqual([]);
    await createSlots('palace', [{ start: at(11), end: at(12), capacity: { individual: 3 } }]);
    const again = await book(booking(slotId), 'full-key');
    expect(again.status).toBe(409);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.detail).toBe(first.body.detail);
    expect(again.body.alternatives.slots).toHaveLength(1);
  });

  test('groups use their own quota, within the slot’s group size', async () => {
    const small = await book(booking(slotId, { kind: 'group', party_size: 10 }));
    expect(small.status).toBe(400);
    expect(small.body.errors).toEqual([{ path: 'body.party_size', message: 'a group in this slot must be 15–40 people' }]);
    expect((await book(booking(slotId, { kind: 'group', party_size: 40 }))).status).toBe(201);
    const over = await book(booking(slotId, { kind: 'group', party_size: 30 }));
    expect(over.status).toBe(409);
    expect(over.body.type).toBe('https://edumap.dev/problems/slot_full');
    expect(await remaining('palace', slotId)).toEqual({ individual: 5, group: 20 });
    const family = await book(booking(slotId, { party_size: 11 }));
    expect(family.body.errors[0].path).toBe('body.party_size');
  });

  test('one booking per visitor ID per resource per day; cancelling frees the day', async () => {
    const [{ id: afternoon }] = await createSlots('palace', [{ start: at(14), end: at(15), capacity: { individual: 5 } }]);
    const [{ id: nextDay }] = await createSlots('palace', [{ start: at(9, 1), end: at(10, 1), capacity: { individual: 5 } }]);
    const [{ id: elsewhere }] = await createSlots('nmc', [{ start: at(14), end: at(15), capacity: { individual: 5 } }]);
    const first = await book(booking(slotId, { party_size: 2, visitor_ids: [residentId(7), residentId(8)] }));
    expect(first.status).toBe(201);
    const again = await book(booking(afternoon, { party_size: 2, visitor_ids: [residentId(9), residentId(8).toLowerCase()] }));
    expect(again.status).toBe(409);
    // Which visitor, and which booking, is not said: the answer would tell who is booked where.
    expect(again.body).toMatchObject({ type: 'https://edumap.dev/problems/visitor_already_booked', errors: [{ path: 'body.visitor_ids' }] });
    expect(JSON.stringify(again.body)).not.toMatch(/visitor_ids\[|bk_|11010/);
    expect(await remaining('palace', afternoon)).toEqual({ individual: 5, group: 0 }); // nothing half-done
    expect((await book(booking(nextDay, { visitor_ids: [residentId(8)] }))).status).toBe(201);
    expect((await book(booking(elsewhere, { visitor_ids: [residentId(8)] }))).status).toBe(201);

    const cancel = await request(svc.app).delete(`/v1/bookings/${first.body.id}`).set('Authorization', `Bearer ${first.body.token}`);
    expect(cancel.status).toBe(200);
    expect((await book(booking(afternoon, { visitor_ids: [residentId(8)] }))).status).toBe(201);
  });

  test('bad phone numbers and ID numbers are a 400 naming the field, without echoing them', async () => {
    const res = await book(booking(slotId, {
      party_size: 3, contact: { name: ' ', phone: '12345678901' }, visitor_ids: [residentId(1).slice(0, 17) + 'Y', residentId(2), residentId(2)],
    }));
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(['body.contact.name', 'body.contact.phone', 'body.visitor_ids[0]', 'body.visitor_ids[2]']);
    expect(JSON.stringify(res.body)).not.toMatch(/12345678901|110108/);
    const more = await book(booking(slotId, { party_size: 1, visitor_ids: [residentId(1), residentId(2)] }));
    expect(more.body.errors[0].path).toBe('body.visitor_ids');
    const shape = await book({ slot_id: 'one', kind: 'family', party_size: 0, contact: {} });
    expect(shape.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(
      ['body.contact.name', 'body.contact.phone', 'body.kind', 'body.party_size', 'body.slot_id']);
    const notJson = await request(svc.app).post('/v1/bookings').set('Idempotency-Key', 'x').set('Content-Type', 'application/json').send('{"slot_id":');
    expect(notJson.status).toBe(400);
  });

  test('an unknown slot is a 404 naming body.slot_id; a slot that has started a 409', async () => {
    const missing = await book(booking(999_999));
    expect(missing.status).toBe(404);
    expect(missing.body.errors[0].path).toBe('body.slot_id');
    const [past] = await insertSlots([{ resourceId: 'palace', startMs: Date.now() - HOUR, endMs: Date.now() + HOUR,
      capacityIndividual: 5, capacityGroup: 0, groupMin: 15, groupMax: 200 }]);
    const started = await book(booking(past.id));
    expect(started.status).toBe(409);
    expect(started.body.type).toBe('https://edumap.dev/problems/slot_closed');
  });

  test('cancelling gives the places back; cancelling again answers the same; a wrong token is a 404', async () => {
    const { body } = await book(booking(slotId, { party_size: 3 }));
    expect(await remaining('palace', slotId)).toEqual({ individual: 2, group: 60 });
    expect((await request(svc.app).delete(`/v1/bookings/${body.id}`)).status).toBe(401);
    expect((await request(svc.app).delete(`/v1/bookings/${body.id}`).set('Authorization', 'Bearer nope')).status).toBe(404);
    const res = await request(svc.app).delete(`/v1/bookings/${body.id}`).set('Authorization', `Bearer ${body.token}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: body.id, status: 'cancelled', cancelled_at: expect.any(String) });
    expect(await remaining('palace', slotId)).toEqual({ individual: 5, group: 60 });
    const twice = await request(svc.app).delete(`/v1/bookings/${body.id}`).set('Authorization', `Bearer ${body.token}`);
    expect(twice.body).toEqual(res.body);
    expect(await remaining('palace', slotId)).toEqual({ individual: 5, group: 60 });
  });

  test('cancelling after the cut-off is a 409 and keeps the booking', async () => {
    const soon = Date.now() + HOUR; // the default cut-off is 2 hours before the start
    const [slot] = await insertSlots([{ resourceId: 'palace', startMs: soon, endMs: soon + HOUR,
      capacityIndividual: 5, capacityGroup: 0, groupMin: 15, groupMax: 200 }]);
    const { body } = await book(booking(slot.id));
    const res = await request(svc.app).delete(`/v1/bookings/${body.id}`).set('Authorization', `Bearer ${body.token}`);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ type: 'https://edumap.dev/problems/cancellation_closed', cancel_before: formatShanghai(new Date(soon - 2 * HOUR)) });
    const read = await request(svc.app).get(`/v1/bookings/${body.id}`).set('Authorization', `Bearer ${body.token}`);
    expect(read.body.status).toBe('confirmed');
  });

  test('cancellable: true for a booking made before its cut-off; false for one made inside it, in every answer', async () => {
    const early = await book(booking(slotId), 'key-early');
    expect(early.body).toMatchObject({ status: 'confirmed', cancellable: true });
    const read = (b: { id: string; token: string }) => request(svc.app).get(`/v1/bookings/${b.id}`).set('Authorization', `Bearer ${b.token}`);
    expect((await read(early.body)).body.cancellable).toBe(true);
    expect((await book(booking(slotId), 'key-early')).body).toMatchObject({ id: early.body.id, cancellable: true }); // a replay
    const cancelled = await request(svc.app).delete(`/v1/bookings/${early.body.id}`).set('Authorization', `Bearer ${early.body.token}`);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', cancellable: false });

    const soon = Date.now() + HOUR; // inside the default cut-off of 2 hours
    const [slot] = await insertSlots([{ resourceId: 'palace', startMs: soon, endMs: soon + HOUR,
      capacityIndividual: 5, capacityGroup: 0, groupMin: 15, groupMax: 200 }]);
    const late = await book(booking(slot.id), 'key-late');
    expect(late.status).toBe(201);
    expect(late.body).toMatchObject({ status: 'confirmed', cancellable: false, cancel_before: formatShanghai(new Date(soon - 2 * HOUR)) });
    expect((await read(late.body)).body.cancellable).toBe(false);
    expect((await book(booking(slot.id), 'key-late')).body.cancellable).toBe(false);
    expect((await request(svc.app).delete(`/v1/bookings/${late.body.id}`).set('Authorization', `Bearer ${late.body.token}`)).status).toBe(409);
  });

  test('the booking as iCalendar: one event in UTC, CRLF lines folded at 75 octets; the same token rule', async () => {
    const { body } = await book(booking(slotId, { party_size: 2 }));
    const res = await request(svc.app).get(`/v1/bookings/${body.id}.ics`).set('Authorization', `Bearer ${body.token}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/calendar/);
    const text = res.text;
    expect(text.startsWith('BEGIN:VCALENDAR\r\nVERSION:2.0\r\n')).toBe(true);
    expect(text.endsWith('END:VCALENDAR\r\n')).toBe(true);
    const start = new Date(day0 + 9 * HOUR).toISOString().replace(/[-:]/g, '').replace('.000', '');
    expect(text).toContain(`DTSTART:${start}\r\n`);
    expect(text).toContain(`UID:${body.id}@edumap\r\n`);
    expect(text).toContain('STATUS:CONFIRMED');
    expect(text.replace(/\r\n /g, '')).toContain('SUMMARY:故宫博物院 — 预约 booking');
    for (const line of text.split('\r\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);
    expect((await request(svc.app).get(`/v1/bookings/${body.id}.ics`).set('Authorization', 'Bearer wrong')).status).toBe(404);
    expect((await request(svc.app).get(`/v1/bookings/${body.id}.ics`)).status).toBe(401);
  });
});

describe('availability in search', () => {
  const near = '116.3950,39.9100';

  test('"nearest with N free seats in the window" is one query; each item names its slot', async () => {
    const [{ id: palaceSlot }] = await createSlots('palace', [{ start: at(14), end: at(15), capacity: { individual: 2 } }]);
    await createSlots('nmc', [{ start: at(14), end: at(15), capacity: { individual: 10 } }, { start: at(9), end: at(10), capacity: { individual: 10 } }]);
    const all = await request(svc.app).get('/v1/resources').query({ near });
    expect(all.body.items.map((r: { id: string }) => r.id)).toEqual(['nmc', 'palace', 'nlc']);

    const search = (query: object) => request(svc.app).get('/v1/resources').query({ near, ...query });
    const afternoon = { available_from: at(13), available_to: at(18) };
    const two = await search({ ...afternoon, seats: 2 });
    expect(two.status).toBe(200);
    expect(two.body.items.map((r: { id: string }) => r.id)).toEqual(['nmc', 'palace']);
    expect(two.body.items[1].slot).toEqual({ id: palaceSlot, start: at(14), end: at(15), remaining: { individual: 2, group: 0 } });
    const three = await search({ ...afternoon, seats: 3 });
    expect(three.body.items.map((r: { id: string }) => r.id)).toEqual(['nmc']);
    expect(three.body.items[0].slot.start).toBe(at(14)); // the morning slot is outside the window
    expect((await search({ ...afternoon, kind: 'group', seats: 20 })).body.items).toEqual([]);
    const wholeDay = await search({ available_from: at(0), seats: 3 });
    expect(wholeDay.body.items[0].slot.start).toBe(at(9));
    const geo = await search({ ...afternoon, seats: 2, format: 'geojson' });
    expect(geo.body.features[1].properties.slot.id).toBe(palaceSlot);
  });

  test('a booking shows in the next search without rebuilding the snapshot, also one made by another connection', async () => {
    const [{ id }] = await createSlots('palace', [{ start: at(14), end: at(15), capacity: { individual: 3 } }]);
    const generation = svc.holder.current.generation;
    const snapshot = svc.holder.current;
    const search = () => request(svc.app).get('/v1/resources').query({ near, available_from: at(13), available_to: at(18), seats: 2 });
    expect((await search()).body.items.map((r: { id: string }) => r.id)).toEqual(['palace']);
    expect((await book(booking(id, { party_size: 2 }))).status).toBe(201);
    expect((await search()).body.items).toEqual([]);

    // Another process on the same file gives places back: a second connection stands in for it.
    const other = await openStore(svc.config.dbPath);
    const store = new SlotStore(other);
    await other.tx((t) => store.give(t, id, 'individual', 2));
    await other.close();
    expect((await search()).body.items.map((r: { id: string }) => r.id)).toEqual(['palace']);
    expect(svc.holder.current).toBe(snapshot);
    expect(svc.holder.current.generation).toBe(generation);
  });

  test('availability parameters are checked, naming the field', async () => {
    const search = (query: object) => request(svc.app).get('/v1/resources').query(query);
    expect((await search({ seats: 2 })).body.errors).toEqual([{ path: 'query.available_from', message: 'is required with seats' }]);
    expect((await search({ available_from: 'saturday' })).body.errors[0].path).toBe('query.available_from');
    expect((await search({ available_from: at(14), available_to: at(13) })).body.errors[0].path).toBe('query.available_to');
    expect((await search({ available_from: at(14), seats: 0 })).body.errors[0].path).toBe('query.seats');
    expect((await search({ available_from: at(14), kind: 'family' })).body.errors[0].path).toBe('query.kind');
  });

  test('a cursor continues an availability search', async () => {
    for (const r of ['palace', 'nmc', 'nlc']) await createSlots(r, [{ start: at(14), end: at(15), capacity: { individual: 4 } }]);
    const query = { near, available_from: at(13), seats: 2, limit: 2 };
    const page1 = await request(svc.app).get('/v1/resources').query(query);
    expect(page1.body.items.map((r: { id: string }) => r.id)).toEqual(['nmc', 'palace']);
    const page2 = await request(svc.app).get('/v1/resources').query({ ...query, cursor: page1.body.next_cursor });
    expect(page2.body.items.map((r: { id: string }) => r.id)).toEqual(['nlc']);
    const other = await request(svc.app).get('/v1/resources').query({ ...query, seats: 3, cursor: page1.body.next_cursor });
    expect(other.status).toBe(400);
  });
});

describe('availability in POST /v1/match', () => {
  const origins = [{ lng: 116.3950, lat: 39.9100, label: 'home' }];
  const match = (needs: object) => request(svc.app).post('/v1/match').send({ origins, needs, limit: 5 });

  test('needs.party keeps only places with the seats in the window; each pick names the slot it would book', async () => {
    await createSlots('palace', [{ start: at(14), end: at(15), capacity: { individual: 2, group: 60 }, group_size: { min: 15, max: 60 } }]);
    const [{ id: nmcSlot }] = await createSlots('nmc', [{ start: at(15), end: at(16), capacity: { individual: 6 } }]);
    const time = { from: at(13), to: at(18) };
    const plain = await match({ time });
    expect(plain.status).toBe(200);
    expect(plain.body.items.map((m: { resource: { id: string } }) => m.resource.id).sort()).toEqual(['nlc', 'nmc', 'palace']);
    expect(plain.body.items[0].slot).toBeUndefined();

    const three = await match({ time, party: { seats: 3 } });
    expect(three.body.items.map((m: { resource: { id: string } }) => m.resource.id)).toEqual(['nmc']);
    expect(three.body.items[0].slot).toEqual({ id: nmcSlot, start: at(15), end: at(16), remaining: { individual: 6, group: 0 } });
    const group = await match({ time, party: { seats: 30, kind: 'group' } });
    expect(group.body.items.map((m: { resource: { id: string } }) => m.resource.id)).toEqual(['palace']);
    // From `at` to the end of that day; without a time, the coming week.
    expect((await match({ time: { at: at(15.5) }, party: { seats: 3 } })).body.items).toEqual([]);
    expect((await match({ party: { seats: 3 } })).body.items.map((m: { resource: { id: string } }) => m.resource.id)).toEqual(['nmc']);
  });

  test('a bad party or time is a 400 naming the field', async () => {
    expect((await match({ party: { seats: 0 } })).body.errors[0].path).toBe('body.needs.party.seats');
    expect((await match({ party: { seats: 2, kind: 'class' } })).body.errors[0].path).toBe('body.needs.party.kind');
    expect((await match({ time: { at: 'noon' }, party: { seats: 2 } })).body.errors[0].path).toBe('body.needs.time.at');
  });
});
