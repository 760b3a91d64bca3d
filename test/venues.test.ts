import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import request from 'supertest';
import { formatShanghai } from '../src/time.js';
import { normalizeResidentId } from '../src/booking/privacy.js';
import { normalizeOrgCode } from '../src/booking/identity.js';
import { ADMIN_KEY, HEADER, OPERATOR, ROOT, csvLine, phoneNumber, residentId, storedBytes, testService, type TestService } from './support.js';

// The venue's side of booking (issue 11), on a clock the tests move.

const base = { type: 'museum', tags: '智育|历史', stages: 'primary|junior', free: '是', booking_required: 'true', source: 'test' };
const palace = { ...base, id: 'palace', name: '故宫博物院', lng: 116.3908, lat: 39.9163, district: '东城区' };
const nationalMuseum = { ...base, id: 'nmc', name: '中国国家博物馆', lng: 116.3974, lat: 39.9051, district: '东城区' };

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Midnight (Asia/Shanghai) of a day after tomorrow: the tests' day 0. */
const day0 = Date.parse(`${formatShanghai(new Date(Date.now() + 2 * DAY)).slice(0, 10)}T00:00:00+08:00`);
const ms = (hours: number, days = 0) => day0 + days * DAY + hours * HOUR;
const at = (hours: number, days = 0) => formatShanghai(new Date(ms(hours, days)));
/** A valid unified social credit code (the standard's own example). */
const ORG = '91350100M000100Y43';

let now = ms(10);
let svc: TestService;
let key = 0;
let palaceKey: string;
let nmcKey: string;
beforeEach(async () => {
  now = ms(10);
  svc = await testService({ seed: false, clock: () => now });
  await svc.importText([HEADER, csvLine(palace), csvLine(nationalMuseum)].join('\n'));
  palaceKey = (await svc.keys.create({ role: 'venue', resources: ['palace'], label: '故宫票务' }, OPERATOR, () => true)).key;
  nmcKey = (await svc.keys.create({ role: 'venue', resources: ['nmc'], label: '国博票务' }, OPERATOR, () => true)).key;
});
afterEach(() => svc.close());

const as = (k: string) => ({ Authorization: `Bearer ${k}` });
const admin = as(ADMIN_KEY);

async function slot(resource: string, hours: number, days: number, capacity: object = { individual: 20, group: 100 }): Promise<number> {
  const [made] = await svc.bookings.createSlots(resource, [{ start: at(hours, days), end: at(hours + 1, days), capacity }], OPERATOR);
  return made.id;
}

function booking(slotId: number, extra: Record<string, unknown> = {}) {
  return { slot_id: slotId, kind: 'individual', party_size: 1, contact: { name: '王小明', phone: phoneNumber(1) }, ...extra };
}

const book = (body: object, k = `key-${++key}`) => request(svc.app).post('/v1/bookings').set('Idempotency-Key', k).send(body);
const wait = (body: object, k = `wait-${++key}`) => request(svc.app).post('/v1/waitlist').set('Idempotency-Key', k).send(body);
const rules = (resource: string, body: object, k = palaceKey) => request(svc.app).put(`/v1/resources/${resource}/booking-rules`).set(as(k)).send(body);
const type = (res: { body: { type?: string } }) => res.body.type?.replace('https://edumap.dev/problems/', '');

describe('booking rules', () => {
  test('a resource without rules answers the defaults; a PUT takes the contract values for omitted fields; audited', async () => {
    const none = await request(svc.app).get('/v1/resources/palace/booking-rules').set(as(palaceKey));
    expect(none.status).toBe(200);
    expect(none.body).toMatchObject({ stored: false, window_days: 7, release_time: '00:00', real_name: false, per_contact_daily: null, no_show: null });
    const put = await rules('palace', { real_name: true, group: { max: 60 } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      stored: true, window_days: 7, release_time: '17:00', real_name: true, per_contact_daily: 5, cancel_cutoff_hours: 2,
      group: { min: 15, max: 60, org_code_required: true, batches_per_day: null }, no_show: { limit: 3, within_days: 90, ban_days: 30 },
    });
    const audit = await request(svc.app).get('/v1/audit').set(admin);
    expect(audit.body.items.at(-1)).toMatchObject({ action: 'booking_rules.put', target: 'palace', key_label: '故宫票务' });
  });

  test('rules: no key 401, another venue 403, unknown resource 404, a bad body 400 naming the field, not JSON 415', async () => {
    expect((await request(svc.app).put('/v1/resources/palace/booking-rules').send({})).status).toBe(401);
    const other = await rules('palace', {}, nmcKey);
    expect(other.status).toBe(403);
    expect(type(other)).toBe('out_of_scope');
    expect((await request(svc.app).get('/v1/resources/palace/booking-rules').set(as(nmcKey))).status).toBe(403);
    expect((await rules('nowhere', {}, ADMIN_KEY)).status).toBe(404);
    expect((await rules('palace', { release_time: '25:00' })).body.errors[0].path).toBe('body.release_time');
    expect((await rules('palace', { window_days: 0 })).body.errors[0].path).toBe('body.window_days');
    expect((await rules('palace', { group: { min: 50, max: 20 } })).body.errors[0].path).toBe('body.group.min');
    expect((await rules('palace', { colour: 'red' })).body.errors[0].path).toBe('body.colour');
    expect((await request(svc.app).put('/v1/resources/palace/booking-rules').set(as(palaceKey)).type('text/plain').send('x')).status).toBe(415);
  });

  test('anyone reads the rules (the booking form states them); a key sent must be valid and run the resource', async () => {
    await rules('palace', { real_name: true });
    const anyone = await request(svc.app).get('/v1/resources/palace/booking-rules');
    expect(anyone.status).toBe(200);
    expect(anyone.body).toMatchObject({ resource_id: 'palace', stored: true, real_name: true, per_contact_daily: 5 });
    expect((await request(svc.app).get('/v1/resources/palace/booking-rules').set(as('not-a-key'))).status).toBe(403);
    expect((await request(svc.app).get('/v1/resources/nowhere/booking-rules')).status).toBe(404);
    // The real-name errors the form shows beside its fields come in Chinese for a Chinese page.
    const s = await slot('palace', 9, 1);
    const zh = await book(booking(s, { party_size: 2 })).set('Accept-Language', 'zh-CN');
    expect(zh.body.errors).toEqual([{ path: 'body.visitor_ids', message: '本场馆实行实名预约：请填写全部 2 位参观者的居民身份证号码' }]);
  });

  test('a slot 8 days ahead is not_yet_open until 17:00 seven days before, then bookable', async () => {
    await rules('palace', {});
    const far = await slot('palace', 9, 8);
    const early = await book(booking(far));
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ type: 'https://edumap.dev/problems/not_yet_open', opens_at: at(17, 1) });
    now = ms(16.99, 1);
    expect(type(await book(booking(far)))).toBe('not_yet_open');
    now = ms(17, 1);
    expect((await book(booking(far))).status).toBe(201);
  });

  test('a resource without rules opens its slots 7 days ahead at midnight', async () => {
    const eighth = await slot('palace', 9, 8);
    expect((await book(booking(eighth))).body).toMatchObject({ type: 'https://edumap.dev/problems/not_yet_open', opens_at: at(0, 1) });
    now = ms(0, 1);
    expect((await book(booking(eighth))).status).toBe(201);
  });

  test('search and match with available_* do not offer an unreleased slot', async () => {
    await rules('palace', {});
    await slot('palace', 9, 8);
    const query = { near: '116.39,39.91', available_from: at(0, 8), available_to: at(23, 8) };
    expect((await request(svc.app).get('/v1/resources').query(query)).body.items).toEqual([]);
    const match = () => request(svc.app).post('/v1/match').send({ origins: [{ lng: 116.39, lat: 39.91 }], needs: { time: { from: at(0, 8), to: at(23, 8) }, party: { seats: 1 } } });
    expect((await match()).body.items).toEqual([]);
    now = ms(17, 1);
    expect((await request(svc.app).get('/v1/resources').query(query)).body.items.map((r: { id: string }) => r.id)).toEqual(['palace']);
    expect((await match()).body.items.map((m: { resource: { id: string } }) => m.resource.id)).toEqual(['palace']);
  });

  test('search does not offer a group below the venue’s group size, nor an individual party above its per-contact cap', async () => {
    await rules('palace', { group: { min: 20 }, per_contact_daily: 3 });
    await slot('palace', 9, 1);
    const search = (q: object) => request(svc.app).get('/v1/resources').query({ available_from: at(0, 1), ...q });
    expect((await search({ kind: 'group', seats: 15 })).body.items).toEqual([]);
    expect((await search({ kind: 'group', seats: 20 })).body.items).toHaveLength(1);
    expect((await search({ seats: 4 })).body.items).toEqual([]);
    expect((await search({ seats: 3 })).body.items).toHaveLength(1);
  });

  test('npm run schedule takes booking_rules per entry', async () => {
    const file = join(svc.dir, 'schedules.json');
    writeFileSync(file, JSON.stringify({ schedules: [
      { resource_id: 'palace', booking_rules: { window_days: 14, release_time: '20:00' } },
      { resource_id: 'nmc', booking_rules: { release_time: 'late' } },
    ] }));
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/schedule.ts', file], {
      cwd: ROOT, env: { PATH: process.env.PATH, EDUMAP_DB: svc.config.dbPath }, encoding: 'utf8', timeout: 60_000,
    });
    expect(run.stdout).toContain('palace: booking rules set; 0 slots created');
    expect(run.stdout).toMatch(/nmc: refused: body\.booking_rules\.release_time/);
    expect(run.status).toBe(1);
    expect(await svc.bookings.rules.of('palace')).toMatchObject({ stored: true, windowDays: 14, releaseMinute: 20 * 60 });
  }, 90_000);
});

describe('identity', () => {
  test('resident IDs are checked fully: province, a birth date not in the future, the check character; lowercase x accepted', () => {
    const id = (body17: string) => {
      const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
      return body17 + '10X98765432'[[...body17].reduce((s, d, i) => s + Number(d) * w[i], 0) % 11];
    };
    const today = formatShanghai(new Date(now)).slice(0, 10).replace(/-/g, '');
    const tomorrow = formatShanghai(new Date(now + DAY)).slice(0, 10).replace(/-/g, '');
    expect(normalizeResidentId(id(`110108${today}001`), now)).toBeDefined();
    expect(normalizeResidentId(id(`110108${tomorrow}001`), now)).toBeUndefined();
    expect(normalizeResidentId(id('990108201401010011'.slice(0, 17)), now)).toBeUndefined(); // no province 99
    const withX = [...Array(1000).keys()].map((n) => id(`11010820140101${String(n).padStart(3, '0')}`)).find((s) => s.endsWith('X'))!;
    expect(normalizeResidentId(withX.toLowerCase(), now)).toBe(withX);
    expect(normalizeResidentId(withX.slice(0, 17) + '0', now)).toBeUndefined();
  });

  test('unified social credit codes are checked (GB 32100-2015), lowercase accepted', () => {
    expect(normalizeOrgCode(ORG)).toBe(ORG);
    expect(normalizeOrgCode(ORG.toLowerCase())).toBe(ORG);
    expect(normalizeOrgCode(ORG.slice(0, 17) + '2')).toBeUndefined();
    expect(normalizeOrgCode('91350100M000100YI3')).toBeUndefined(); // I is not in the alphabet
  });

  test('a real-name booking without visitor_ids is a 400 naming body.visitor_ids; an ID born tomorrow is a 400', async () => {
    await rules('palace', { real_name: true });
    const s = await slot('palace', 9, 1);
    const none = await book(booking(s, { party_size: 2, visitor_ids: [residentId(1)] }));
    expect(none.status).toBe(400);
    expect(none.body.errors).toEqual([{ path: 'body.visitor_ids', message: expect.stringMatching(/each of the 2 visitors/) }]);
    const tomorrow = formatShanghai(new Date(now + DAY)).slice(0, 10).replace(/-/g, '');
    const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const body = `110108${tomorrow}001`;
    const unborn = body + '10X98765432'[[...body].reduce((x, d, i) => x + Number(d) * w[i], 0) % 11];
    const future = await book(booking(s, { visitor_ids: [unborn] }));
    expect(future.status).toBe(400);
    expect(future.body.errors[0].path).toBe('body.visitor_ids[0]');
    expect(JSON.stringify(future.body)).not.toContain(unborn);
    expect((await book(booking(s, { party_size: 2, visitor_ids: [residentId(1), residentId(2)] }))).status).toBe(201);
  });

  test('a group without org code is a 400, a wrong check character too; with real name it needs its leader', async () => {
    await rules('palace', {});
    const s = await slot('palace', 9, 1);
    const group = (g?: object) => booking(s, { kind: 'group', party_size: 30, ...(g ? { group: g } : {}) });
    expect((await book(group())).body.errors).toEqual([{ path: 'body.group.org_code', message: expect.any(String) }]);
    expect((await book(group({ org_code: ORG.slice(0, 17) + '2' }))).body.errors[0].path).toBe('body.group.org_code');
    expect((await book(group({ org_code: ORG.toLowerCase() }))).status).toBe(201);
    await rules('palace', { real_name: true });
    expect((await book(group({ org_code: ORG }))).body.errors[0].path).toBe('body.group.leader_id');
    expect((await book(group({ org_code: ORG, leader_id: residentId(40) }))).status).toBe(201);
    const roster = await request(svc.app).get(`/v1/slots/${s}/roster`).set(as(palaceKey));
    expect(roster.body.items.map((b: { org_code: string }) => b.org_code)).toEqual([ORG, ORG]);
    expect((await book(booking(s, { group: { org_code: ORG } }))).body.errors[0].path).toBe('body.group'); // for groups only
  });

  test('the 6th person for one phone in a day is refused, whichever slot; another phone is not; cancelling gives places back', async () => {
    await rules('palace', {});
    const [a, b] = [await slot('palace', 9, 1), await slot('palace', 14, 1)];
    const first = await book(booking(a, { party_size: 3 }));
    expect(first.status).toBe(201);
    expect((await book(booking(b, { party_size: 2 }))).status).toBe(201);
    const sixth = await book(booking(b));
    expect(sixth.status).toBe(409);
    expect(sixth.body).toMatchObject({ type: 'https://edumap.dev/problems/contact_limit', errors: [{ path: 'body.contact.phone' }] });
    expect(JSON.stringify(sixth.body)).not.toMatch(/bk_|139/);
    expect((await book(booking(b, { contact: { name: '李', phone: phoneNumber(2) } }))).status).toBe(201);
    expect((await book(booking(a, { party_size: 6 }))).body.errors[0].path).toBe('body.party_size'); // above the cap in one booking
    await request(svc.app).delete(`/v1/bookings/${first.body.id}`).set(as(first.body.token));
    expect((await book(booking(b))).status).toBe(201);
  });
});

describe('check-in', () => {
  test('a venue key checks in its own booking (200), again (409), another venue’s key 403; the code is in every answer, the QR and the .ics', async () => {
    const s = await slot('palace', 9, 1);
    const made = await book(booking(s));
    expect(made.body.checkin_code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    const code = made.body.checkin_code as string;
    const read = await request(svc.app).get(`/v1/bookings/${made.body.id}`).set(as(made.body.token));
    expect(read.body.checkin_code).toBe(code);
    const qr = await request(svc.app).get(`/v1/bookings/${made.body.id}/qr.svg`).set(as(made.body.token));
    expect(qr.status).toBe(200);
    expect(qr.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(qr.body.toString()).toMatch(/^<svg/);
    expect((await request(svc.app).get(`/v1/bookings/${made.body.id}/qr.svg`)).status).toBe(401);
    expect((await request(svc.app).get(`/v1/bookings/${made.body.id}/qr.svg`).set(as('wrong'))).status).toBe(404);
    const ics = await request(svc.app).get(`/v1/bookings/${made.body.id}.ics`).set(as(made.body.token));
    expect(ics.text.replace(/\r\n /g, '')).toContain(code);

    const checkin = (k: string, c = code) => request(svc.app).post('/v1/checkins').set(as(k)).send({ code: c });
    now = ms(7.99, 1);
    const early = await checkin(palaceKey);
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ type: 'https://edumap.dev/problems/checkin_not_open', opens_at: at(8, 1) });
    now = ms(8.5, 1);
    expect((await checkin(nmcKey)).status).toBe(403);
    const ok = await checkin(palaceKey, code.toLowerCase().replace('-', ' '));
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ id: made.body.id, status: 'confirmed', checked_in_at: at(8.5, 1) });
    expect(ok.body.token).toBeUndefined();
    const again = await checkin(palaceKey);
    expect(again.status).toBe(409);
    expect(type(again)).toBe('already_checked_in');
    const audit = await request(svc.app).get('/v1/audit').set(admin);
    expect(audit.body.items.filter((e: { action: string }) => e.action === 'booking.checkin')).toHaveLength(1);
  });

  test('check-in after the slot is a 409 checkin_closed; an unknown code 404; no key 401; a bad body 400; a cancelled booking 409', async () => {
    const s = await slot('palace', 9, 1);
    const made = await book(booking(s));
    const gone = await book(booking(s, { contact: { name: '李', phone: phoneNumber(3) } }));
    await request(svc.app).delete(`/v1/bookings/${gone.body.id}`).set(as(gone.body.token));
    now = ms(8.5, 1);
    expect(type(await request(svc.app).post('/v1/checkins').set(as(palaceKey)).send({ code: gone.body.checkin_code }))).toBe('booking_not_confirmed');
    now = ms(10, 1);
    const late = await request(svc.app).post('/v1/checkins').set(as(palaceKey)).send({ code: made.body.checkin_code });
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ type: 'https://edumap.dev/problems/checkin_closed', closed_at: at(10, 1) });
    const unknown = await request(svc.app).post('/v1/checkins').set(as(palaceKey)).send({ code: 'ZZZZ-ZZZZ' });
    expect(unknown.status).toBe(404);
    expect((await request(svc.app).post('/v1/checkins').send({ code: made.body.checkin_code })).status).toBe(401);
    expect((await request(svc.app).post('/v1/checkins').set(as(palaceKey)).send({ code: '<script>' })).body.errors[0].path).toBe('body.code');
  });
});

describe('no-shows', () => {
  test('after the slot ends unchecked bookings become no_show; the third no-show bans the visitor; the ban ends when it says', async () => {
    await rules('palace', {});
    const visitor = residentId(77);
    const days = [1, 2, 3];
    const slots = [];
    for (const d of days) slots.push(await slot('palace', 9, d));
    const later = await slot('palace', 9, 5);
    const made = [];
    for (const [k, s] of slots.entries()) made.push((await book(booking(s, { visitor_ids: [visitor], contact: { name: '王', phone: phoneNumber(10 + k) } }))).body);
    const checkedIn = await book(booking(slots[0], { contact: { name: '赵', phone: phoneNumber(50) } }));

    now = ms(8.5, 1);
    await request(svc.app).post('/v1/checkins').set(as(palaceKey)).send({ code: checkedIn.body.checkin_code });
    now = ms(11, 2);
    expect(await svc.bookings.noShows.run()).toBe(2);
    expect(await svc.bookings.noShows.run()).toBe(0); // idempotent
    const status = async (b: { id: string; token: string }) => (await request(svc.app).get(`/v1/bookings/${b.id}`).set(as(b.token))).body.status;
    expect(await status(made[0])).toBe('no_show');
    expect(await status(checkedIn.body)).toBe('confirmed');
    // Two no-shows: not banned yet.
    const fine = await book(booking(later, { visitor_ids: [visitor], contact: { name: '王', phone: phoneNumber(20) } }));
    expect(fine.status).toBe(201);
    await request(svc.app).delete(`/v1/bookings/${fine.body.id}`).set(as(fine.body.token));

    now = ms(11, 3);
    expect(await svc.bookings.noShows.run()).toBe(1);
    const banned = await book(booking(later, { visitor_ids: [visitor], contact: { name: '王', phone: phoneNumber(21) } }));
    expect(banned.status).toBe(409);
    const until = at(10 + 30 * 24, 3); // the third no-show's slot end + 30 days
    expect(banned.body).toMatchObject({ type: 'https://edumap.dev/problems/banned', until });
    expect(JSON.stringify(banned.body)).not.toMatch(/bk_|110108/);
    expect((await wait(booking(later, { visitor_ids: [visitor], contact: { name: '王', phone: phoneNumber(21) } }))).status).toBe(409);
    // Another visitor with another phone is not banned; the ban is at this resource only.
    expect((await book(booking(later, { visitor_ids: [residentId(78)], contact: { name: '周', phone: phoneNumber(22) } }))).status).toBe(201);

    now = Date.parse(until) - HOUR;
    const after = await slot('palace', 9, 34);
    expect(type(await book(booking(after, { visitor_ids: [visitor], contact: { name: '王', phone: phoneNumber(23) } })))).toBe('banned');
    now = Date.parse(until);
    expect((await book(booking(after, { visitor_ids: [visitor], contact: { name: '王', phone: phoneNumber(23) } }))).status).toBe(201);
  });

  test('a resource without rules counts no no-shows', async () => {
    const s = await slot('nmc', 9, 1);
    await book(booking(s));
    now = ms(11, 1);
    expect(await svc.bookings.noShows.run()).toBe(0);
  });
});

describe('venue operations on slots', () => {
  test('closing a slot cancels and lists its bookings, gives the seats to nobody and ends its waitlist', async () => {
    const s = await slot('palace', 9, 1, { individual: 2 });
    const other = await slot('palace', 14, 1, { individual: 5 });
    const a = await book(booking(s, { visitor_ids: [residentId(5)] }));
    const b = await book(booking(s, { contact: { name: '李', phone: phoneNumber(2) } }));
    const waiting = await wait(booking(s, { contact: { name: '周', phone: phoneNumber(3) } }));
    expect(waiting.status).toBe(201);
    expect((await request(svc.app).delete(`/v1/slots/${s}`).set(as(nmcKey))).status).toBe(403);
    const closed = await request(svc.app).delete(`/v1/slots/${s}`).set(as(palaceKey));
    expect(closed.status).toBe(200);
    expect(closed.body.cancelled.map((x: { id: string; status: string }) => [x.id, x.status]).sort())
      .toEqual([[a.body.id, 'cancelled_by_venue'], [b.body.id, 'cancelled_by_venue']].sort());
    expect(closed.body.cancelled[0].contact.phone).toMatch(/^\d{3}\*{4}\d{4}$/);
    expect(closed.body.waitlist_ended).toBe(1);
    expect(closed.body.slot.capacity).toEqual({ individual: 0, group: 0 });
    expect(type(await book(booking(s, { contact: { name: '新', phone: phoneNumber(9) } })))).toBe('slot_closed');
    expect(await svc.db.get('SELECT taken_individual, capacity_individual FROM slots WHERE id = ?', [s])).toEqual({ taken_individual: 0, capacity_individual: 0 });
    expect((await request(svc.app).get('/v1/resources/palace/slots').query({ from: at(0, 1), to: at(0, 2) })).body.items.map((x: { id: number }) => x.id)).toEqual([other]);
    expect((await request(svc.app).get(`/v1/waitlist/${waiting.body.id}`).set(as(waiting.body.token))).body).toMatchObject({ status: 'expired', reason: 'slot_closed' });
    expect((await book(booking(other, { visitor_ids: [residentId(5)] }))).status).toBe(201); // the visitor's day was given back
    expect((await request(svc.app).delete(`/v1/slots/${s}`).set(as(palaceKey))).status).toBe(404);
    expect((await request(svc.app).delete('/v1/slots/abc').set(as(palaceKey))).status).toBe(400);
    expect((await request(svc.app).delete(`/v1/slots/${other}`)).status).toBe(401);
  });

  test('a capacity change never goes below what is taken (409 naming it); a 400 for a bad body; audited', async () => {
    const s = await slot('palace', 9, 1, { individual: 5 });
    await book(booking(s, { party_size: 3 }));
    const below = await request(svc.app).patch(`/v1/slots/${s}`).set(as(palaceKey)).send({ capacity: { individual: 2 } });
    expect(below.status).toBe(409);
    expect(below.body).toMatchObject({ type: 'https://edumap.dev/problems/capacity_below_taken', errors: [{ path: 'body.capacity.individual' }], taken: { individual: 3 } });
    const ok = await request(svc.app).patch(`/v1/slots/${s}`).set(as(palaceKey)).send({ capacity: { individual: 3, group: 10 } });
    expect(ok.body).toMatchObject({ capacity: { individual: 3, group: 10 }, remaining: { individual: 0, group: 10 } });
    expect((await request(svc.app).patch(`/v1/slots/${s}`).set(as(palaceKey)).send({ capacity: { individual: -1 } })).body.errors[0].path).toBe('body.capacity.individual');
    expect((await request(svc.app).patch(`/v1/slots/${s}`).set(as(nmcKey)).send({ capacity: { individual: 9 } })).status).toBe(403);
    expect((await request(svc.app).patch('/v1/slots/999999').set(as(palaceKey)).send({ capacity: { individual: 9 } })).status).toBe(404);
    const audit = await request(svc.app).get('/v1/audit').set(admin);
    expect(audit.body.items.filter((e: { action: string }) => e.action === 'slot.patch')).toHaveLength(1);
  });

  test('the roster has contact names, masked phones, party, status and check-in; venue keys of that resource only', async () => {
    const s = await slot('palace', 9, 1);
    await book(booking(s, { party_size: 2, contact: { name: '王小明', phone: '13812345678' } }));
    const roster = await request(svc.app).get(`/v1/slots/${s}/roster`).set(as(palaceKey));
    expect(roster.status).toBe(200);
    expect(roster.body).toMatchObject({ count: 1, items: [{ contact: { name: '王小明', phone: '138****5678' }, party_size: 2, status: 'confirmed', checked_in_at: null }] });
    expect(JSON.stringify(roster.body)).not.toContain('13812345678');
    expect((await request(svc.app).get(`/v1/slots/${s}/roster`).set(as(nmcKey))).status).toBe(403);
    expect((await request(svc.app).get(`/v1/slots/${s}/roster`)).status).toBe(401);
    expect((await request(svc.app).get('/v1/slots/999999/roster').set(as(palaceKey))).status).toBe(404);
    // Each listing that showed names is in the audit log, without them; the refused ones are not.
    const audit = await request(svc.app).get('/v1/audit').set(admin);
    const reads = audit.body.items.filter((e: { action: string }) => e.action === 'roster.read');
    expect(reads).toEqual([expect.objectContaining({ target: String(s), key_label: '故宫票务', detail: { resource: 'palace', bookings: 1 } })]);
    expect(JSON.stringify(audit.body)).not.toContain('王小明');
  });

  test('the phone in the database file is not the phone in clear, nor its digits; a reveal answers it and is audited', async () => {
    const s = await slot('palace', 9, 1);
    const phone = '13987654321';
    const made = await book(booking(s, { contact: { name: '王小明', phone: '+86 139-8765-4321' } }));
    const files = await storedBytes(svc);
    for (const needle of [phone, '87654321', '139 8765 4321', '139-8765-4321']) expect(files.some((f) => f.includes(Buffer.from(needle)))).toBe(false);
    expect(await svc.db.value('SELECT phone_box IS NOT NULL FROM bookings WHERE id = ?', [made.body.id])).toBe(1);

    const reveal = await request(svc.app).get(`/v1/bookings/${made.body.id}/contact`).set(as(palaceKey));
    expect(reveal.status).toBe(200);
    expect(reveal.body).toEqual({ booking_id: made.body.id, name: '王小明', phone, revealed: true });
    expect((await request(svc.app).get(`/v1/bookings/${made.body.id}/contact`).set(as(nmcKey))).status).toBe(403);
    expect((await request(svc.app).get(`/v1/bookings/${made.body.id}/contact`)).status).toBe(401);
    expect((await request(svc.app).get('/v1/bookings/bk_AAAAAAAAAAAAAAAA/contact').set(as(palaceKey))).status).toBe(404);
    const audit = await request(svc.app).get('/v1/audit').set(admin);
    const reveals = audit.body.items.filter((e: { action: string }) => e.action === 'contact.reveal');
    expect(reveals).toEqual([expect.objectContaining({ target: made.body.id, key_label: '故宫票务' })]);
    expect(JSON.stringify(audit.body)).not.toContain('4321');

    // A booking made before phones were kept: the masked number only.
    await svc.db.run('UPDATE bookings SET phone_box = NULL, phone_key = NULL WHERE id = ?', [made.body.id]);
    expect((await request(svc.app).get(`/v1/bookings/${made.body.id}/contact`).set(as(palaceKey))).body).toMatchObject({ phone: '139****4321', revealed: false });
  });

  test('key rotation: boxes sealed under the old key are read with EDUMAP_DATA_KEY_OLD and re-sealed by rekey', async () => {
    const s = await slot('palace', 9, 1);
    const made = await book(booking(s, { contact: { name: '王', phone: '13900001111' } }));
    const { DataKeys } = await import('../src/booking/sealed.js');
    const { rekeyPhones } = await import('../src/booking/rekey.js');
    const fresh = Buffer.alloc(32, 7);
    const keys = new DataKeys(fresh, [svc.config.dataKey]);
    expect(await rekeyPhones(svc.db, keys)).toEqual({ resealed: 1, unreadable: 0 });
    expect(await rekeyPhones(svc.db, keys)).toEqual({ resealed: 0, unreadable: 0 });
    const row = (await svc.db.get<{ phone_box: Buffer; phone_key: string }>('SELECT phone_box, phone_key FROM bookings WHERE id = ?', [made.body.id]))!;
    expect(row.phone_key).toBe(keys.currentId);
    expect(new DataKeys(fresh).open(row.phone_box, made.body.id)).toBe('13900001111');
    expect(new DataKeys(svc.config.dataKey).open(row.phone_box, made.body.id)).toBeUndefined();
  });
});

describe('waitlist', () => {
  test('a slot with room is a 409 to book instead; a full one takes entries in order; a cancellation promotes the first, with its booking’s token and code', async () => {
    const s = await slot('palace', 9, 1, { individual: 2 });
    const early = await wait(booking(s));
    expect(early.status).toBe(409);
    expect(type(early)).toBe('slot_has_room');
    const held = [await book(booking(s)), await book(booking(s, { contact: { name: '李', phone: phoneNumber(2) } }))];
    const first = await wait(booking(s, { contact: { name: 'A', phone: phoneNumber(11) } }));
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ id: expect.stringMatching(/^wl_/), status: 'waiting', position: 1, token: expect.any(String), expires_at: at(7, 1) });
    const second = await wait(booking(s, { party_size: 2, contact: { name: 'B', phone: phoneNumber(12) } }));
    const third = await wait(booking(s, { contact: { name: 'C', phone: phoneNumber(13) } }));
    expect([second.body.position, third.body.position]).toEqual([2, 3]);
    const replay = await wait(booking(s, { contact: { name: 'A', phone: phoneNumber(11) } }), 'same');
    expect((await wait(booking(s, { contact: { name: 'A', phone: phoneNumber(11) } }), 'same')).body).toEqual(replay.body);
    await request(svc.app).get(`/v1/waitlist/${replay.body.id}`).set(as(replay.body.token));
    await request(svc.app).delete(`/v1/waitlist/${replay.body.id}`).set(as(replay.body.token));

    await request(svc.app).delete(`/v1/bookings/${held[0].body.id}`).set(as(held[0].body.token));
    const promoted = await request(svc.app).get(`/v1/waitlist/${first.body.id}`).set(as(first.body.token));
    expect(promoted.body).toMatchObject({ status: 'promoted', booking: { status: 'confirmed', checkin_code: expect.any(String), token: expect.any(String) } });
    const asBooking = await request(svc.app).get(`/v1/bookings/${promoted.body.booking.id}`).set(as(promoted.body.booking.token));
    expect(asBooking.status).toBe(200);
    expect((await request(svc.app).get(`/v1/waitlist/${second.body.id}`).set(as(second.body.token))).body.position).toBe(1);

    // One place free and B needs two: nobody behind B jumps ahead.
    await request(svc.app).delete(`/v1/bookings/${held[1].body.id}`).set(as(held[1].body.token));
    expect((await request(svc.app).get(`/v1/waitlist/${third.body.id}`).set(as(third.body.token))).body.status).toBe('waiting');
    // More capacity promotes B.
    await request(svc.app).patch(`/v1/slots/${s}`).set(as(palaceKey)).send({ capacity: { individual: 3 } });
    expect((await request(svc.app).get(`/v1/waitlist/${second.body.id}`).set(as(second.body.token))).body.status).toBe('promoted');
    expect(await svc.db.value('SELECT taken_individual FROM slots WHERE id = ?', [s])).toBe(3);
    const metrics = await request(svc.app).get('/metrics');
    expect(metrics.text).toMatch(/edumap_waitlist_outcomes_total\{outcome="promoted",reason=""\} 2/);
  });

  test('an entry a rule refuses is passed over with its reason; entries expire at the cut-off; DELETE leaves', async () => {
    const s = await slot('palace', 9, 1, { individual: 1 });
    const other = await slot('palace', 14, 1, { individual: 5 });
    const held = await book(booking(s));
    const busy = await wait(booking(s, { visitor_ids: [residentId(9)], contact: { name: 'A', phone: phoneNumber(11) } }));
    const next = await wait(booking(s, { contact: { name: 'B', phone: phoneNumber(12) } }));
    const leaving = await wait(booking(s, { contact: { name: 'C', phone: phoneNumber(13) } }));
    expect((await book(booking(other, { visitor_ids: [residentId(9)], contact: { name: 'A', phone: phoneNumber(11) } }))).status).toBe(201);
    const left = await request(svc.app).delete(`/v1/waitlist/${leaving.body.id}`).set(as(leaving.body.token));
    expect(left.body.status).toBe('left');
    await request(svc.app).delete(`/v1/bookings/${held.body.id}`).set(as(held.body.token));
    expect((await request(svc.app).get(`/v1/waitlist/${busy.body.id}`).set(as(busy.body.token))).body).toMatchObject({ status: 'expired', reason: 'visitor_already_booked' });
    expect((await request(svc.app).get(`/v1/waitlist/${next.body.id}`).set(as(next.body.token))).body.status).toBe('promoted');

    const late = await wait(booking(s, { contact: { name: 'D', phone: phoneNumber(14) } }));
    now = ms(7, 1); // the cut-off: 2 hours before 09:00
    expect((await request(svc.app).get(`/v1/waitlist/${late.body.id}`).set(as(late.body.token))).body).toMatchObject({ status: 'expired', reason: 'cutoff' });
    await svc.bookings.noShows.run();
    expect(await svc.db.value('SELECT status FROM waitlist WHERE id = ?', [late.body.id])).toBe('expired');
    expect(type(await wait(booking(s, { contact: { name: 'E', phone: phoneNumber(15) } })))).toBe('waitlist_closed');
  });

  test('waitlist error paths: no key 400, unknown slot 404, wrong token 404, no token 401, malformed id 400, same key other body 422', async () => {
    const s = await slot('palace', 9, 1, { individual: 1 });
    await book(booking(s));
    expect((await request(svc.app).post('/v1/waitlist').send(booking(s))).body.errors[0].path).toBe('header.idempotency-key');
    expect((await wait(booking(999_999))).status).toBe(404);
    const entry = await wait(booking(s), 'wk');
    expect((await wait(booking(s, { party_size: 2 }), 'wk')).status).toBe(422);
    expect((await request(svc.app).get(`/v1/waitlist/${entry.body.id}`)).status).toBe(401);
    expect((await request(svc.app).get(`/v1/waitlist/${entry.body.id}`).set(as('nope'))).status).toBe(404);
    expect((await request(svc.app).get('/v1/waitlist/12').set(as(entry.body.token))).status).toBe(400);
    expect((await wait({ ...booking(s), contact: { name: 'x', phone: '123' } })).body.errors[0].path).toBe('body.contact.phone');
  });
});
