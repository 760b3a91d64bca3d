import { createRandom, csvLine, generateRows, loadWorld } from '../scripts/gen.js';
import { search, type SearchQuery } from '../src/engine/search.js';
import { View } from '../src/engine/view.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HEADER, OPERATOR, ROOT, testService, type TestService } from './support.js';
import { allPages, describeQuery, oracle, randomQuery, readPlain, type Plain } from './oracle.js';

const world = loadWorld();
let svc: TestService;
let all: Plain[];

/** Imports `count` generated rows, plus `extra` CSV lines, into a fresh service. */
async function withData(count: number, seed: number, extra: string[] = []): Promise<void> {
  svc = await testService({ seed: false });
  const lines = [HEADER, ...[...generateRows(count, seed, world)].map((r) => csvLine(r).trimEnd()), ...extra];
  const report = await svc.importText(lines.join('\n'));
  expect(report.rejected).toEqual([]);
  // School districts (holes, a MultiPolygon), so that area= covers both kinds of area.
  const example = JSON.parse(readFileSync(join(ROOT, 'data', 'school-districts.synthetic.geojson'), 'utf8'));
  expect((await svc.areaEdits.upload(example, 'wgs84', OPERATOR)).rejected).toEqual([]);
  all = await readPlain(svc.db);
}

afterEach(() => svc?.close());


describe('search agrees with a brute-force scan', () => {
  test('every filter combination over random data, paged to the end through cursors', async () => {
    await withData(2000, 11);
    const rand = createRandom(99);
    for (let n = 0; n < 200; n++) {
      const q = randomQuery(svc.holder.current, rand);
      const want = oracle(svc.tax, all, { ...q });
      const got = allPages(svc.holder.current, q);
      expect({ q: describeQuery(q), ids: got.map((x) => x.id) }).toEqual({ q: describeQuery(q), ids: want.map((x) => x.id) });
      if (q.near) got.forEach((x, k) => expect(x.km).toBe(want[k].km));
    }
  });

  test('the first page holds exactly the first `limit` matches, even when filters are selective', async () => {
    await withData(3000, 12);
    const rand = createRandom(7);
    for (let n = 0; n < 200; n++) {
      const q = randomQuery(svc.holder.current, rand);
      const want = oracle(svc.tax, all, q);
      const r = search(svc.holder.current, q);
      expect(r.refs.map(View.idOf)).toEqual(want.slice(0, q.limit).map((x) => x.id));
      expect(r.more).toBe(want.length > q.limit);
    }
  });

  test('ties in distance are ordered by id, also across page boundaries', async () => {
    // 30 resources at one point and 30 at another: every distance is tied 30 ways.
    const extra: string[] = [];
    for (let k = 0; k < 60; k++) {
      const [lng, lat] = k % 2 ? [116.4, 39.9] : [116.3, 39.95];
      extra.push(`tie-${String(59 - k).padStart(2, '0')},并列 ${k},,park,${lng},${lat},wgs84,,,ti,,,,,,,,,`);
    }
    await withData(200, 13, extra);
    for (const limit of [1, 7, 10, 29, 30, 31]) {
      const q: SearchQuery = { near: [116.35, 39.92], tags: [['ti']], limit };
      expect(allPages(svc.holder.current, q).map((x) => x.id)).toEqual(oracle(svc.tax, all, q).map((x) => x.id));
    }
  });

  test('k larger than the number of matches returns them all, and says there is no more', async () => {
    await withData(500, 14);
    const q: SearchQuery = { near: [116.4, 39.9], tags: [['ti.martial']], limit: 100 };
    const want = oracle(svc.tax, all, q);
    expect(want.length).toBeLessThan(100);
    const r = search(svc.holder.current, q);
    expect(r.refs.length).toBe(want.length);
    expect(r.more).toBe(false);
  });

  test('a point exactly at the radius is inside; one a hair further is not', async () => {
    await withData(300, 15);
    const target = all[17];
    const near: [number, number] = [target.lng + 0.01, target.lat + 0.01];
    const exact = oracle(svc.tax, all, { near, limit: 1000 }).find((x) => x.id === target.id)!.km!;
    const inside = search(svc.holder.current, { near, radiusKm: exact, limit: 1000 });
    expect(inside.refs.map(View.idOf)).toContain(target.id);
    const outside = search(svc.holder.current, { near, radiusKm: exact * (1 - 1e-9), limit: 1000 });
    expect(outside.refs.map(View.idOf)).not.toContain(target.id);
  });

  test('a point on a district boundary belongs to exactly one district, and area search agrees', async () => {
    // A vertex of 东城区's boundary is shared with a neighbour.
    svc = await testService({ seed: false });
    const dongcheng = svc.holder.current.areas.get('110101')!;
    const ring = (dongcheng.geometry.type === 'Polygon' ? dongcheng.geometry.coordinates : dongcheng.geometry.coordinates[0])[0];
    const [lng, lat] = ring[10];
    const owners = svc.holder.current.areas.containing([lng, lat]).map((a) => a.id);
    expect(owners.length).toBeGreaterThanOrEqual(1);
    await svc.importText([HEADER, `edge,边界点,,park,${lng},${lat},wgs84,,,ti,,,,,,,,,`].join('\n'));
    all = await readPlain(svc.db);
    expect(all[0].district).toBe(owners[0]);
    for (const id of svc.holder.current.districts) {
      const q: SearchQuery = { area: svc.holder.current.areas.get(id), limit: 10 };
      expect(search(svc.holder.current, q).refs.length).toBe(id === owners[0] ? 1 : 0);
    }
  });

  test('does not complain about zero items', async () => {
    svc = await testService({ seed: false });
    const snap = svc.holder.current;
    expect(snap.size).toBe(0);
    expect(search(snap, { near: [116.4, 39.9], limit: 10 })).toEqual({ refs: [], distancesKm: [], more: false });
    expect(search(snap, { near: [116.4, 39.9], tags: [['ti']], limit: 10 }).refs).toEqual([]);
    expect(search(snap, { limit: 10 }).refs).toEqual([]);
    expect(snap.base.nameMatches('公园').every((x) => x === 0)).toBe(true);
  });

  test('names and ids with multi-byte and mixed-case text: name search and id lookup agree with string scans', async () => {
    // The snapshot keeps names and ids as UTF-8 bytes; these put multi-byte characters next to the
    // needles, ids that sort differently by bytes than by case, and names that lower-case to other lengths.
    const rows: [string, string, string][] = [
      ['A-1', 'Straße der Kunst', 'STRASSE'], ['a.1', '愀戀 科技馆', 'Ab Science'], ['a-1', 'İstanbul 公园', 'ÉCOLE Park'],
      ['Z9', '海淀公园', ''], ['b:2', 'ǅungla 园', 'Über Museum'], ['b_2', '北京科技', 'Beijing ＳＣＩＥＮＣＥ'],
    ];
    await withData(50, 21, rows.map(([id, name, en], k) => `${id},${name},${en},park,116.3${k},39.9${k},wgs84,,,ti,,,,,,,,,`));
    const base = svc.holder.current.base;
    for (const needle of ['straße', 'STRASSE', 'ab', '愀', '戀 科', 'i̇stanbul', 'istanbul', 'école', 'über', 'ｓｃｉｅｎｃｅ', '园', '科技', 'ǆ', 'park', '0']) {
      const hits = base.nameMatches(needle);
      const want = needle.toLowerCase();
      const expected = all.map((r) => r.name.toLowerCase().includes(want) || (r.name_en ?? '').toLowerCase().includes(want));
      const got = all.map((r) => hits[base.indexOf(r.id)] === 1);
      expect([needle, got]).toEqual([needle, expected]);
    }
    const byBytes = [...all].sort((a, b) => Buffer.compare(Buffer.from(a.id), Buffer.from(b.id)));
    for (const [k, r] of byBytes.entries()) {
      expect(base.idOf(k)).toBe(r.id);
      expect(base.indexOf(r.id)).toBe(k);
    }
    for (const absent of ['', 'A', 'a', 'a-0', 'b:3', 'zz', '~']) expect(base.indexOf(absent)).toBe(-1);
  });

  test('search does not mutate its query', async () => {
    await withData(100, 16);
    const q: SearchQuery = { near: [116.4, 39.9], tags: [['ti'], ['zhi', 'mei']], limit: 5, types: ['park'] };
    const copy = structuredClone(q);
    search(svc.holder.current, q);
    expect(q).toEqual(copy);
  });
});
