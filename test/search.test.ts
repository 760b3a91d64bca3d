import { createRandom, csvLine, generateRows, loadWorld } from '../scripts/gen.js';
import { search, type SearchQuery } from '../src/engine/search.js';
import { termsOfFacet } from '../src/taxonomy/taxonomy.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HEADER, OPERATOR, ROOT, testService, type TestService } from './support.js';
import { oracle, readPlain, type Plain } from './oracle.js';

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
  await svc.holder.current.loadNames(); // random queries filter by name (`q`) straight on the snapshot
}

afterEach(() => svc?.close());

/** Runs a query to the end through its keyset cursor, `limit` at a time. */
function allPages(q: SearchQuery): { id: string; km?: number }[] {
  const snap = svc.holder.current;
  const out: { id: string; km?: number }[] = [];
  let after: SearchQuery['after'];
  for (let page = 0; page <= snap.size + 1; page++) {
    const r = search(snap, { ...q, after });
    r.indices.forEach((i, k) => out.push({ id: snap.ids[i], km: r.distancesKm?.[k] }));
    if (!r.more) return out;
    const last = r.indices.length - 1;
    after = { id: snap.ids[r.indices[last]], distanceKm: r.distancesKm?.[last] };
  }
  throw new Error('too many pages');
}

function randomQuery(rand: () => number): SearchQuery {
  const snap = svc.holder.current;
  const tax = snap.tax;
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  const taggable = tax.terms.filter((t) => tax.facets[t.facet].taggable).map((t) => t.id);
  const q: SearchQuery = { limit: rand() < 0.1 ? 1 + Math.floor(rand() * 3) : 5 + Math.floor(rand() * 40) };
  if (rand() < 0.7) q.near = [115.9 + rand() * 1.2, 39.6 + rand() * 0.9];
  if (q.near && rand() < 0.4) q.radiusKm = rand() < 0.1 ? 0.001 : 1 + rand() * 30;
  if (rand() < 0.5) q.tags = [[pick(taggable)]];
  if (rand() < 0.2) (q.tags ??= []).push([pick(taggable), pick(taggable)]);
  if (rand() < 0.1) q.tags = [['lao.service']]; // 0.1 % of the rows: the sub-index path
  if (rand() < 0.25) q.types = rand() < 0.5 ? [pick(termsOfFacet(tax, 'type'))] : [pick(termsOfFacet(tax, 'type')), pick(termsOfFacet(tax, 'type'))];
  if (rand() < 0.2) q.stages = [pick(termsOfFacet(tax, 'stage'))];
  if (rand() < 0.2) q.free = rand() < 0.5;
  if (rand() < 0.25) q.area = snap.areas.get(pick(snap.districts));
  else if (rand() < 0.15) q.area = pick(snap.areas.list('school_district'));
  if (rand() < 0.15) {
    const [w, s] = [116 + rand() * 0.8, 39.7 + rand() * 0.5];
    q.bbox = [w, s, w + rand() * 0.3, s + rand() * 0.3];
  }
  if (rand() < 0.1) q.q = pick(['科技', '公园', 'museum', 'PARK', '0', '海淀']);
  if (rand() < 0.2) q.openAt = new Date(Date.UTC(2026, 11, 1 + Math.floor(rand() * 14), Math.floor(rand() * 24)));
  return q;
}

const describeQuery = (q: SearchQuery) => JSON.stringify({ ...q, area: q.area?.id });

describe('search agrees with a brute-force scan', () => {
  test('every filter combination over random data, paged to the end through cursors', async () => {
    await withData(2000, 11);
    const rand = createRandom(99);
    for (let n = 0; n < 200; n++) {
      const q = randomQuery(rand);
      const want = oracle(svc.tax, all, { ...q });
      const got = allPages(q);
      expect({ q: describeQuery(q), ids: got.map((x) => x.id) }).toEqual({ q: describeQuery(q), ids: want.map((x) => x.id) });
      if (q.near) got.forEach((x, k) => expect(x.km).toBe(want[k].km));
    }
  });

  test('the first page holds exactly the first `limit` matches, even when filters are selective', async () => {
    await withData(3000, 12);
    const rand = createRandom(7);
    for (let n = 0; n < 200; n++) {
      const q = randomQuery(rand);
      const want = oracle(svc.tax, all, q);
      const r = search(svc.holder.current, q);
      expect(r.indices.map((i) => svc.holder.current.ids[i])).toEqual(want.slice(0, q.limit).map((x) => x.id));
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
      expect(allPages(q).map((x) => x.id)).toEqual(oracle(svc.tax, all, q).map((x) => x.id));
    }
  });

  test('k larger than the number of matches returns them all, and says there is no more', async () => {
    await withData(500, 14);
    const q: SearchQuery = { near: [116.4, 39.9], tags: [['ti.martial']], limit: 100 };
    const want = oracle(svc.tax, all, q);
    expect(want.length).toBeLessThan(100);
    const r = search(svc.holder.current, q);
    expect(r.indices.length).toBe(want.length);
    expect(r.more).toBe(false);
  });

  test('a point exactly at the radius is inside; one a hair further is not', async () => {
    await withData(300, 15);
    const target = all[17];
    const near: [number, number] = [target.lng + 0.01, target.lat + 0.01];
    const exact = oracle(svc.tax, all, { near, limit: 1000 }).find((x) => x.id === target.id)!.km!;
    const inside = search(svc.holder.current, { near, radiusKm: exact, limit: 1000 });
    expect(inside.indices.map((i) => svc.holder.current.ids[i])).toContain(target.id);
    const outside = search(svc.holder.current, { near, radiusKm: exact * (1 - 1e-9), limit: 1000 });
    expect(outside.indices.map((i) => svc.holder.current.ids[i])).not.toContain(target.id);
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
      expect(search(svc.holder.current, q).indices.length).toBe(id === owners[0] ? 1 : 0);
    }
  });

  test('does not complain about zero items', async () => {
    svc = await testService({ seed: false });
    const snap = svc.holder.current;
    expect(snap.size).toBe(0);
    expect(search(snap, { near: [116.4, 39.9], limit: 10 })).toEqual({ indices: [], distancesKm: [], more: false });
    expect(search(snap, { near: [116.4, 39.9], tags: [['ti']], limit: 10 }).indices).toEqual([]);
    expect(search(snap, { limit: 10 }).indices).toEqual([]);
    await snap.loadNames();
    expect(snap.nameMatches('公园').every((x) => x === 0)).toBe(true);
  });

  test('search does not mutate its query', async () => {
    await withData(100, 16);
    const q: SearchQuery = { near: [116.4, 39.9], tags: [['ti'], ['zhi', 'mei']], limit: 5, types: ['park'] };
    const copy = structuredClone(q);
    search(svc.holder.current, q);
    expect(q).toEqual(copy);
  });
});
