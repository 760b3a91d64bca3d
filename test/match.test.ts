import request from 'supertest';
import { distance } from 'geokdbush';
import { fromWgs84 } from '../src/geo/crs.js';
import { isOpenAt, parseHoursWithCalendar } from '../src/calendar/hours.js';
import { formatShanghai, parseDateTime } from '../src/time.js';
import { readPlain } from './oracle.js';
import { ADMIN_KEY, testService, type TestService } from './support.js';

let svc: TestService;
beforeAll(async () => {
  svc = await testService();
});
afterAll(() => svc.close());

const home = { lng: 116.3264, lat: 39.9606, label: 'home' };
const school = { lng: 116.3102, lat: 39.9917, label: 'school' };
const post = (body: unknown) => request(svc.app).post('/v1/match').send(body as object);

describe('POST /v1/match', () => {
  test('a balanced plan: every requested domain is represented before any repeats, heaviest first', async () => {
    const res = await post({ origins: [home], needs: { domains: { ti: 2, zhi: 1, mei: 1, lao: 1 } }, limit: 6 });
    expect(res.status).toBe(200);
    const domains = res.body.items.map((i: { domain: string }) => i.domain);
    expect(domains.slice(0, 4)).toEqual(['ti', 'lao', 'mei', 'zhi']);
    for (const item of res.body.items.slice(0, 4)) {
      expect(item.reasons.matched_domains).toContain(item.domain);
      expect(item.resource.tags.some((t: string) => t === item.domain || t.startsWith(`${item.domain}.`))).toBe(true);
    }
    expect(res.body.items).toHaveLength(6);
  });

  test('the score is the documented sum of its weighted parts, and items after the plan are by score', async () => {
    const res = await post({ origins: [home], needs: { domains: { ti: 1 }, time: { at: '2026-12-05T14:00' } }, limit: 8 });
    const { weights } = res.body.scoring;
    for (const item of res.body.items) {
      const { distance, terms, open } = item.breakdown;
      expect(item.score).toBeCloseTo(weights.distance * distance + weights.terms * terms + weights.open * open, 3);
      expect(distance).toBeCloseTo(Math.exp(-item.reasons.effective_distance_m / 1000 / 5), 3);
    }
    const scores = res.body.items.slice(1).map((i: { score: number }) => i.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  test('two origins combine by weighted mean distance, reported per origin', async () => {
    const res = await post({ origins: [home, { ...school, weight: 3 }], limit: 3 });
    expect(res.body.combine).toBe('weighted_mean_distance');
    for (const item of res.body.items) {
      const [a, b] = item.reasons.distance_m.map((d: { distance_m: number }) => d.distance_m);
      expect(item.reasons.distance_m.map((d: { label: string }) => d.label)).toEqual(['home', 'school']);
      expect(Math.abs(item.reasons.effective_distance_m - (a + 3 * b) / 4)).toBeLessThanOrEqual(1);
    }
  });

  test('hard filters hold: stage, required tags, require_open', async () => {
    const res = await post({
      origins: [home], needs: { stage: 'preschool', tags: ['mei'], time: { at: '2026-12-05T10:00' }, require_open: true }, limit: 10,
    });
    expect(res.status).toBe(200);
    expect(res.body.items.length).toBeGreaterThan(0);
    for (const item of res.body.items) {
      expect(item.resource.stages).toContain('preschool');
      expect(item.resource.tags.some((t: string) => t === 'mei' || t.startsWith('mei.'))).toBe(true);
      expect(item.reasons.open.open).toBe(true);
    }
  });

  test('equal requests get equal answers', async () => {
    const body = { origins: [home, school], needs: { domains: { ti: 1, 美育: 1 } }, limit: 5 };
    const a = await post(body);
    const b = await post(body);
    expect(a.body).toEqual(b.body);
  });

  test('GCJ-02 origins give the same places as their WGS-84 twins', async () => {
    const gcj = { lng: 116.33265, lat: 39.96198 }; // ≈ home, as Amap would show it
    const a = await post({ origins: [gcj], crs: 'gcj02', needs: { domains: { zhi: 1 } }, limit: 5 });
    expect(a.body.crs).toBe('gcj02');
    const b = await post({ origins: [home], needs: { domains: { zhi: 1 } }, limit: 5 });
    expect(a.body.items.map((i: { resource: { id: string } }) => i.resource.id)).toEqual(b.body.items.map((i: { resource: { id: string } }) => i.resource.id));
    // Locations come back in GCJ-02: each is its WGS-84 twin converted (≈ 500 m off in Beijing), to the centimetre.
    for (const [k, item] of (a.body.items as { resource: { location: { lng: number; lat: number } } }[]).entries()) {
      const wgs = b.body.items[k].resource.location;
      const [lng, lat] = fromWgs84([wgs.lng, wgs.lat], 'gcj02');
      expect(item.resource.location.lng).toBeCloseTo(lng, 6);
      expect(item.resource.location.lat).toBeCloseTo(lat, 6);
      expect(distance(wgs.lng, wgs.lat, item.resource.location.lng, item.resource.location.lat)).toBeGreaterThan(0.2);
    }
  });

  test.each([
    [{}, 'body.origins'],
    [{ origins: [] }, 'body.origins'],
    [{ origins: [{ lng: 'x', lat: 39.9 }] }, 'body.origins[0].lng'],
    [{ origins: [{ lng: 216.3, lat: 39.9 }] }, 'body.origins[0].lng'],
    [{ origins: [home], needs: { domains: { sport: 1 } } }, 'body.needs.domains.sport'],
    [{ origins: [home], needs: { domains: { ti: -1 } } }, 'body.needs.domains.ti'],
    [{ origins: [home], needs: { stage: 'university' } }, 'body.needs.stage'],
    [{ origins: [home], needs: { time: { at: 'saturday' } } }, 'body.needs.time.at'],
    [{ origins: [home], needs: { time: { from: '2026-12-05T14:00', to: '2026-12-05T10:00' } } }, 'body.needs.time.to'],
    [{ origins: [home], needs: { time: { from: '2026-12-05T14:00', to: '2027-03-08T14:00' } } }, 'body.needs.time.to'],
    [{ origins: [home], needs: { require_open: true } }, 'body.needs.require_open'],
    [{ origins: [home], limit: 0 }, 'body.limit'],
    [{ origins: [home], colour: 'red' }, 'body.colour'],
    [{ origins: [home], needs: { tags: ['|'] } }, 'body.needs.tags[0]'],
  ])('400 naming the field for %j', async (body, path) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(res.type).toBe('application/problem+json');
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
  });

  test('415 for a body that is not JSON, 400 for JSON that does not parse', async () => {
    const text = await request(svc.app).post('/v1/match').set('Content-Type', 'text/plain').send('origins');
    expect(text.status).toBe(415);
    const bad = await request(svc.app).post('/v1/match').set('Content-Type', 'application/json').send('{"origins":');
    expect(bad.status).toBe(400);
    expect(bad.type).toBe('application/problem+json');
  });

  test('413 for an oversized body', async () => {
    const res = await post({ origins: [home], needs: { tags: ['x'.repeat(20_000)] } });
    expect(res.status).toBe(413);
  });
});

/** The Palace Museum's own hours in data/resources.csv: Apr-Oct Tu-Su 08:30-17:00; Nov-Mar Tu-Su 08:30-16:30. */
const PALACE = { lng: 116.3908, lat: 39.9163, label: 'palace' };
type Item = { resource: { id: string; opening_hours: string | null }; breakdown: { open: number };
  reasons: { open: { at: string; open: boolean | null; judged: string; from?: string; to?: string } | null }; slot?: { id: number } };
const item = (items: Item[], id: string) => items.find((i) => i.resource.id === id);

describe('POST /v1/match: open in a time window', () => {
  test('a window 08:00–12:00 finds 故宫 (opening at 08:30): an unbroken open stretch of 60 minutes is enough for a visit', async () => {
    const res = await post({ origins: [PALACE], needs: { types: ['museum'], time: { from: '2026-12-05T08:00', to: '2026-12-05T12:00' }, require_open: true }, limit: 20 });
    expect(res.status).toBe(200);
    expect(res.body.scoring.visitMinutes).toBe(60);
    const palace = item(res.body.items, 'palace-museum');
    expect(palace?.reasons.open).toEqual({ at: '2026-12-05T08:00:00+08:00', open: true, judged: 'window', from: '2026-12-05T08:30:00+08:00', to: '2026-12-05T12:00:00+08:00' });
    expect(palace?.breakdown.open).toBe(1);
  });

  test('a window whose open part is shorter than a visit is closed; a window shorter than a visit must be open throughout', async () => {
    const judged = async (from: string, to: string) => item((await post({ origins: [PALACE], needs: { types: ['museum'], time: { from, to } }, limit: 20 })).body.items, 'palace-museum')!;
    const late = await judged('2026-12-05T16:00', '2026-12-05T17:00'); // closes 16:30 in winter: 30 minutes
    expect(late.reasons.open).toMatchObject({ open: false, from: '2026-12-05T16:00:00+08:00', to: '2026-12-05T16:30:00+08:00' });
    expect(late.breakdown.open).toBe(0);
    expect((await judged('2026-12-05T16:00', '2026-12-05T16:30')).reasons.open?.open).toBe(true);
    expect((await judged('2026-12-05T16:00', '2026-12-05T16:31')).reasons.open?.open).toBe(false);
    const monday = await judged('2026-12-07T08:00', '2026-12-07T18:00'); // closed on Mondays
    expect(monday.reasons.open).toEqual({ at: '2026-12-07T08:00:00+08:00', open: false, judged: 'window' });
  });

  test('the window rule agrees with a minute-by-minute brute force over the hours, holidays and midnight included', async () => {
    const calendar = svc.holder.current.calendar;
    const all = await readPlain(svc.db);
    const parsed = new Map<string, ReturnType<typeof parseHoursWithCalendar>>();
    /** The longest run of open minutes in [from, to), sampled at every minute; undefined when none. */
    const longest = (text: string, from: Date, to: Date) => {
      if (!parsed.has(text)) parsed.set(text, parseHoursWithCalendar(text, calendar));
      const p = parsed.get(text)!;
      if (!('hours' in p)) throw new Error(p.error);
      let best: { start: number; end: number } | undefined;
      let run = -1;
      for (let t = from.getTime(); t < to.getTime(); t += 60_000) {
        if (isOpenAt(p.hours, new Date(t))) {
          if (run < 0) run = t;
          if (!best || t + 60_000 - run > best.end - best.start) best = { start: run, end: t + 60_000 };
        } else run = -1;
      }
      return best;
    };
    const qualifies = (text: string | null, from: Date, to: Date) => {
      if (text === null) return null;
      const best = longest(text, from, to);
      return best !== undefined && best.end - best.start >= Math.min(60 * 60_000, to.getTime() - from.getTime());
    };
    let seed = 12;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const days = ['2026-10-05', '2026-10-12', '2026-10-31', '2026-11-01', '2026-12-05', '2027-01-01', '2026-02-17', '2026-06-01'];
    const windows = [...days, ...days, ...days].map((day) => {
      const from = parseDateTime(`${day}T${String(6 + Math.floor(rand() * 12)).padStart(2, '0')}:${['00', '15', '30', '45'][Math.floor(rand() * 4)]}`)!;
      return [from, new Date(from.getTime() + [15, 45, 60, 90, 150, 240, 480][Math.floor(rand() * 7)] * 60_000)];
    });
    // Across midnight, and around the threshold: 故宫 and most museums close at 16:30 or 17:00 in winter.
    windows.push([parseDateTime('2026-10-07T20:00')!, parseDateTime('2026-10-08T10:00')!]);
    for (const [from, to] of [['15:30', '18:00'], ['15:31', '18:00'], ['16:00', '18:00'], ['16:01', '17:30'], ['07:45', '09:00'], ['08:15', '09:14']]) {
      windows.push([parseDateTime(`2026-12-05T${from}`)!, parseDateTime(`2026-12-05T${to}`)!]);
    }
    const origins = [{ lng: 116.40, lat: 39.91 }];
    for (const [from, to] of windows) {
      const time = { from: formatShanghai(from), to: formatShanghai(to) };
      const open = await post({ origins, needs: { time }, limit: 20 });
      expect(open.status).toBe(200);
      for (const it of open.body.items as Item[]) {
        const want = qualifies(it.resource.opening_hours, from, to);
        expect([time, it.resource.id, it.reasons.open?.open]).toEqual([time, it.resource.id, want]);
        if (want === null) continue;
        const best = longest(it.resource.opening_hours!, from, to);
        expect([it.resource.id, it.reasons.open?.from, it.reasons.open?.to]).toEqual([it.resource.id,
          best && formatShanghai(new Date(best.start)), best && formatShanghai(new Date(best.end))]);
      }
      const only = await post({ origins, needs: { time, require_open: true }, limit: 20 });
      const everyOpen = all.filter((r) => qualifies(r.hours, from, to) === true).map((r) => r.id);
      expect(only.body.items.length).toBe(Math.min(20, everyOpen.length));
      for (const it of only.body.items as Item[]) expect([time, it.resource.id, everyOpen.includes(it.resource.id)]).toEqual([time, it.resource.id, true]);
    }
  });

  test('with needs.party the open score follows the slot it would book, not the window', async () => {
    // The next Tuesday at least two days ahead: 故宫 opens 08:30 and closes 16:30 or 17:00.
    let day = Date.now() + 2 * 86_400_000;
    while (new Date(day + 8 * 3_600_000).getUTCDay() !== 2) day += 86_400_000;
    const date = formatShanghai(new Date(day)).slice(0, 10);
    const slots = await request(svc.app).post('/v1/resources/palace-museum/slots').set('Authorization', `Bearer ${ADMIN_KEY}`).send({ slots: [
      { start: `${date}T09:00`, end: `${date}T10:00`, capacity: { individual: 10 } },
      { start: `${date}T17:00`, end: `${date}T18:00`, capacity: { individual: 10 } }, // after closing time
    ] });
    expect(slots.status).toBe(201);
    const [morning, evening] = slots.body.items as { id: number }[];
    const judged = async (from: string, to: string, party?: object) => {
      const res = await post({ origins: [PALACE], needs: { time: { from: `${date}T${from}`, to: `${date}T${to}` }, party }, limit: 20 });
      expect(res.status).toBe(200);
      return item(res.body.items, 'palace-museum')!;
    };
    const am = await judged('08:00', '12:00', { seats: 2 });
    expect(am.slot?.id).toBe(morning.id);
    expect(am.reasons.open).toEqual({ at: `${date}T09:00:00+08:00`, open: true, judged: 'slot', from: `${date}T09:00:00+08:00`, to: `${date}T10:00:00+08:00` });
    expect(am.breakdown.open).toBe(1);
    const pm = await judged('14:00', '18:00', { seats: 2 });
    expect(pm.slot?.id).toBe(evening.id);
    expect(pm.reasons.open).toMatchObject({ open: false, judged: 'slot', from: `${date}T17:00:00+08:00` });
    expect(pm.breakdown.open).toBe(0);
    expect((await judged('14:00', '18:00')).breakdown.open).toBe(1); // the window alone: open 14:00–16:30
    const strict = await post({ origins: [PALACE], needs: { time: { from: `${date}T14:00`, to: `${date}T18:00` }, party: { seats: 2 }, require_open: true } });
    expect(strict.body.items).toEqual([]);
  });
});
