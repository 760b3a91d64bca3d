import { distance } from 'geokdbush';
import { COLUMNS, createRandom, csvLine, generateRows } from '../scripts/gen.js';
import { search } from '../src/engine/search.js';
import { parseNeed, type Kind, type Need } from '../src/engine/params.js';
import { Hasher, maskPhone, newToken, normalizePhone, normalizeResidentId, openToken, sealToken } from '../src/booking/privacy.js';
import { requestFingerprint } from '../src/booking/rules.js';
import { icsCalendar } from '../src/booking/ics.js';
import { SlotStore } from '../src/store/slots.js';
import { openStore } from '../src/store/db.js';
import { formatShanghai } from '../src/time.js';
import { phoneNumber, residentId, testService, type TestService, OPERATOR } from './support.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('the availability index against a brute-force oracle over SQL', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await testService({ seed: false });
    const csv = COLUMNS.join(',') + '\n' + [...generateRows(400, 7)].map(csvLine).join('');
    expect((await svc.importText(csv)).inserted).toBe(400);
  });
  afterAll(() => svc.close());

  /** Whether resource `id` has a slot meeting `need`, straight from the table. */
  async function oracle(id: string, need: Need, now: number): Promise<boolean> {
    const free = need.kind === 'group' ? 'capacity_group - taken_group' : 'capacity_individual - taken_individual';
    const group = need.kind === 'group' ? 'AND ? BETWEEN group_min AND group_max' : '';
    return (await svc.db.value(`SELECT 1 FROM slots WHERE resource_id = ? AND start_ms > ? AND start_ms >= ?
      AND start_ms < ? AND ${free} >= ? ${group}`, [id, now, need.fromMs, need.toMs, need.seats, ...(group ? [need.seats] : [])])) !== undefined;
  }

  test('after random slots, bookings, cancellations and writes by another connection, every answer agrees', async () => {
    const rand = createRandom(42);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
    await svc.holder.settled(); // one base snapshot, no overlay: indices below are the whole view's
    const view = svc.holder.current;
    const snap = view.base;
    expect(view.overlay).toBeNull();
    const ids = Array.from({ length: snap.size }, (_, i) => snap.idOf(i));
    const day0 = Date.parse(`${formatShanghai(new Date(Date.now() + 2 * DAY)).slice(0, 10)}T00:00:00+08:00`);
    // Slots on a third of the resources, over three days, some small so that they fill up.
    for (const id of ids.filter(() => rand() < 1 / 3)) {
      const slots = [];
      for (let d = 0; d < 3; d++) {
        for (const h of [9, 11, 14]) {
          if (rand() < 0.5) slots.push({ start: formatShanghai(new Date(day0 + d * DAY + h * HOUR)), end: formatShanghai(new Date(day0 + d * DAY + (h + 2) * HOUR)),
            capacity: { individual: Math.floor(rand() * 6), group: rand() < 0.5 ? 0 : 20 + Math.floor(rand() * 60) }, group_size: { min: 15, max: 40 } });
        }
      }
      const withRoom = slots.filter((s) => s.capacity.individual + s.capacity.group > 0);
      if (withRoom.length) await svc.bookings.createSlots(id, withRoom, OPERATOR);
    }
    const slotIds = await svc.db.all<{ id: number; resource_id: string }>('SELECT id, resource_id FROM slots');
    const otherDb = await openStore(svc.config.dbPath); // stands in for another worker process
    const other = new SlotStore(otherDb);
    const tokens: { id: string; token: string }[] = [];
    let visitor = 0;

    const check = async (round: number) => {
      for (let q = 0; q < 20; q++) {
        const kind: Kind = rand() < 0.7 ? 'individual' : 'group';
        const from = day0 + Math.floor(rand() * 60) * HOUR;
        const need = { fromMs: from, toMs: from + (1 + Math.floor(rand() * 30)) * HOUR, seats: kind === 'group' ? 10 + Math.floor(rand() * 40) : 1 + Math.floor(rand() * 4), kind };
        await svc.bookings.availability.refresh();
        const accept = svc.bookings.availability.acceptFor(snap, need);
        const now = Date.now();
        const truth: boolean[] = [];
        for (let i = 0; i < snap.size; i++) {
          truth.push(await oracle(ids[i], need, now));
          if (accept(i) !== truth[i]) throw new Error(`round ${round}: resource ${ids[i]} disagrees for ${JSON.stringify(need)}`);
        }
        // Search with availability inside the kNN scan is the brute-force filter-then-sort.
        const near: [number, number] = [116.3 + rand() * 0.3, 39.8 + rand() * 0.2];
        const found = search(view, { near, limit: 10, accept: () => accept });
        const expected = ids.map((_, i) => ({ i, d: distance(near[0], near[1], snap.lng[i], snap.lat[i]) }))
          .filter((x) => truth[x.i]).sort((a, b) => a.d - b.d || a.i - b.i).slice(0, 10).map((x) => x.i);
        expect(found.refs.map((r) => r.i)).toEqual(expected);
      }
    };

    await check(0);
    for (let round = 1; round <= 6; round++) {
      for (let k = 0; k < 60; k++) {
        const { id: slotId } = pick(slotIds);
        const action = rand();
        if (action < 0.6) {
          const kind: Kind = rand() < 0.7 ? 'individual' : 'group';
          const outcome = await svc.bookings.book({
            slot_id: slotId, kind, party_size: kind === 'group' ? 15 + Math.floor(rand() * 30) : 1 + Math.floor(rand() * 3),
            contact: { name: '家长', phone: phoneNumber(visitor) }, visitor_ids: [residentId(visitor++)],
          }, `oracle-${round}-${k}`);
          if (outcome.booking) tokens.push({ id: outcome.booking.id, token: outcome.booking.token! });
        } else if (action < 0.8 && tokens.length) {
          const { id, token } = tokens.splice(Math.floor(rand() * tokens.length), 1)[0];
          await svc.bookings.cancel(id, token);
        } else {
          // Another process takes or gives places; this process hears of it only through the store.
          const kind: Kind = rand() < 0.5 ? 'individual' : 'group';
          await otherDb.tx((t) => other.take(t, slotId, kind, kind === 'group' ? 15 : 1));
        }
      }
      await check(round);
    }
    await otherDb.close();
  }, 240_000); // a few thousand store round trips: on PostgreSQL over a loaded 2-core machine, over a minute
});

describe('availability parameters', () => {
  test('available_to defaults to the end of the Shanghai day; seats to 1; kind to individual', () => {
    expect(parseNeed({ available_from: '2026-12-05T22:30' })).toEqual({
      fromMs: Date.parse('2026-12-05T22:30+08:00'), toMs: Date.parse('2026-12-06T00:00+08:00'), seats: 1, kind: 'individual',
    });
    expect(parseNeed({})).toBeUndefined();
  });

  test('each mistake names its field', () => {
    expect(() => parseNeed({ kind: 'group' })).toThrow(/query.available_from: is required with kind/);
    expect(() => parseNeed({ available_from: '2026-12-05T10:00', available_to: '2027-06-05T10:00' })).toThrow(/query.available_to: must be at most 92 days/);
    expect(() => parseNeed({ available_from: '2026-13-05T10:00' }, 'body.when')).toThrow(/body.when.available_from/);
  });
});

describe('personal data', () => {
  test('resident ID numbers: check character, birth date, a lower-case x', () => {
    const id = residentId(123);
    expect(normalizeResidentId(id)).toBe(id);
    expect(normalizeResidentId('11010519491231002X')).toBe('11010519491231002X'); // the standard's own example
    expect(normalizeResidentId('11010519491231002x')).toBe('11010519491231002X');
    expect(normalizeResidentId('110105194912310021')).toBeUndefined(); // wrong check character
    expect(normalizeResidentId('110105194902300027')).toBeUndefined(); // 30 February
    expect(normalizeResidentId('11010519491231002')).toBeUndefined();
  });

  test('phone numbers: +86, spaces and hyphens are accepted; answers mask them', () => {
    expect(normalizePhone('+86 138-1234-5678')).toBe('13812345678');
    expect(normalizePhone('0086 13812345678')).toBe('13812345678');
    expect(normalizePhone('12812345678')).toBeUndefined();
    expect(normalizePhone('010-12345678')).toBeUndefined();
    expect(maskPhone('13812345678')).toBe('138****5678');
  });

  test('keyed hashes: the key matters, each use has its own label; the key order of a body does not matter', () => {
    const a = new Hasher('k'.repeat(32));
    const b = new Hasher('q'.repeat(32));
    expect(a.phone('13812345678').equals(b.phone('13812345678'))).toBe(false);
    expect(a.phone('110105194912310021').equals(a.visitor('110105194912310021'))).toBe(false);
    const body = { slot_id: 1, kind: 'individual' as const, party_size: 2, contact: { name: '王', phone: '13812345678' } };
    const reordered = { contact: { phone: '13812345678', name: '王' }, party_size: 2, kind: 'individual' as const, slot_id: 1 };
    expect(a.request(requestFingerprint(body)).equals(a.request(requestFingerprint(reordered)))).toBe(true);
    expect(a.request(requestFingerprint(body)).equals(a.request(requestFingerprint({ ...body, visitor_ids: [] })))).toBe(false);
  });

  test('booking tokens are random, and a replay\'s sealed token opens only with its Idempotency-Key and request', () => {
    const token = newToken();
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(newToken()).not.toBe(token);
    const box = sealToken(token, 'key-1', 'fingerprint');
    expect(box.includes(Buffer.from(token))).toBe(false);
    expect(openToken(box, 'key-1', 'fingerprint')).toBe(token);
    expect(openToken(box, 'key-2', 'fingerprint')).toBeUndefined();
    expect(openToken(box, 'key-1', 'another body')).toBeUndefined();
  });
});

describe('iCalendar', () => {
  test('escapes text, folds long lines without splitting a character, ends every line with CRLF', () => {
    const text = icsCalendar({
      uid: 'bk_1@edumap', start: new Date('2026-12-05T01:00:00Z'), end: new Date('2026-12-05T02:00:00Z'), stamp: new Date('2026-11-29T00:00:00Z'),
      summary: '中国国家博物馆, 复兴之路; 基本陈列\\'.repeat(3), location: '东城区东长安街16号', point: [116.3974, 39.9051],
    });
    expect(text.split('\r\n').every((line) => Buffer.byteLength(line) <= 75)).toBe(true);
    expect(text.replace(/\r\n /g, '')).toContain('SUMMARY:中国国家博物馆\\, 复兴之路\\; 基本陈列\\\\中国');
    expect(text).toContain('DTSTART:20261205T010000Z\r\n');
    expect(text).toContain('GEO:39.905100;116.397400\r\n');
    expect(text).not.toMatch(/[^\r]\n/);
  });
});
