import request from 'supertest';
import { ADMIN_KEY, testService, csvLine, HEADER, type TestService } from './support.js';
import { COLUMNS, csvLine as genLine, generateRows } from '../scripts/gen.js';
import { clusters } from '../src/engine/clusters.js';
import { search } from '../src/engine/search.js';

interface Marker {
  kind: 'cluster' | 'resource'; id: string; count: number; lng: number; lat: number;
  expansion_zoom?: number; domains?: Record<string, number>; domain?: string | null; name?: string; name_en?: string | null;
}
interface Page { crs: string; zoom: number; total: number; count: number; items: Marker[] }

type Bbox = [number, number, number, number];
const BEIJING: Bbox = [115.4, 39.4, 117.6, 41.1];

let svc: TestService;
beforeAll(async () => {
  svc = await testService();
});
afterAll(() => svc.close());

async function clustersOf(bbox: Bbox, zoom: number, filters: Record<string, string> = {}): Promise<Page> {
  const res = await request(svc.app).get('/v1/clusters').query({ bbox: bbox.join(','), zoom, ...filters });
  expect(res.status).toBe(200);
  return res.body as Page;
}

/** The oracle: every id the public search returns for the same filters and bbox, page by page. */
async function searchIds(bbox: Bbox, filters: Record<string, string> = {}): Promise<Set<string>> {
  const ids = new Set<string>();
  let cursor: string | undefined;
  do {
    const res = await request(svc.app).get('/v1/resources')
      .query({ bbox: bbox.join(','), limit: 100, ...filters, ...(cursor ? { cursor } : {}) });
    expect(res.status).toBe(200);
    for (const r of res.body.items as { id: string }[]) ids.add(r.id);
    cursor = res.body.next_cursor ?? undefined;
  } while (cursor);
  return ids;
}

/** A seeded PRNG (mulberry32), so a failing bbox can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const inside = (m: Marker, [w, s, e, n]: Bbox) => m.lng >= w && m.lng <= e && m.lat >= s && m.lat <= n;

describe('GET /v1/clusters', () => {
  test('over all of Beijing, the counts add up to every resource at every zoom', async () => {
    const all = await searchIds(BEIJING);
    expect(all.size).toBeGreaterThan(200);
    for (let zoom = 0; zoom <= 18; zoom++) {
      const page = await clustersOf(BEIJING, zoom);
      expect(page.total).toBe(all.size);
      expect(page.items.reduce((sum, m) => sum + m.count, 0)).toBe(all.size);
      expect(page.count).toBe(page.items.length);
    }
  });

  test('oracle: for random views and filters, the markers partition the resources the search finds in the bbox', async () => {
    const random = prng(20261129);
    const filterSets: Record<string, string>[] = [{}, { tag: 'ti' }, { tag: '德育' }, { free: 'true' }, { stage: 'primary', tag: 'zhi|mei' }];
    for (let k = 0; k < 40; k++) {
      const zoom = 8 + Math.floor(random() * 10);
      const span = 0.6 / 2 ** (zoom - 9) * (0.5 + random());
      const w = 116.0 + random() * 0.8;
      const s = 39.7 + random() * 0.5;
      const bbox: Bbox = [w, s, w + span * 1.6, s + span];
      const filters = filterSets[k % filterSets.length];
      const [page, oracle] = await Promise.all([clustersOf(bbox, zoom, filters), searchIds(bbox, filters)]);
      expect({ k, total: page.total }).toEqual({ k, total: oracle.size });
      expect(page.items.reduce((sum, m) => sum + m.count, 0)).toBe(oracle.size);
      for (const m of page.items) {
        expect(inside(m, bbox)).toBe(true);
        if (m.kind === 'resource') expect(oracle.has(m.id)).toBe(true);
      }
      const ids = page.items.filter((m) => m.kind === 'resource').map((m) => m.id);
      expect(new Set(ids).size).toBe(ids.length);
    }
  });

  test('a view crossing a dense cluster answers its parts inside the bbox, not the whole cluster', async () => {
    // Half of downtown, at a zoom where downtown is one or two clusters.
    const bbox: Bbox = [116.30, 39.85, 116.40, 39.98];
    const page = await clustersOf(bbox, 9);
    const oracle = await searchIds(bbox);
    expect(page.total).toBe(oracle.size);
    for (const m of page.items) expect(inside(m, bbox)).toBe(true);
  });

  test('past the cluster zoom every resource is its own marker, with its primary domain', async () => {
    const page = await clustersOf(BEIJING, 17);
    expect(page.items.every((m) => m.kind === 'resource' && m.count === 1)).toBe(true);
    // 故宫博物院 is tagged mei|zhi|de|theme.gudu: its primary domain is the first, 美育.
    const palace = page.items.find((m) => m.id === 'palace-museum');
    expect(palace).toMatchObject({ domain: 'mei', name: '故宫博物院' });
  });

  test('a cluster\'s domain counts add up to its count and its expansion zoom is deeper', async () => {
    const page = await clustersOf(BEIJING, 8);
    const clusters = page.items.filter((m) => m.kind === 'cluster');
    expect(clusters.length).toBeGreaterThan(0);
    for (const c of clusters) {
      expect(Object.values(c.domains!).reduce((a, b) => a + b, 0)).toBe(c.count);
      expect(c.expansion_zoom).toBeGreaterThan(8);
    }
  });

  test('a 体 filter answers only 体 resources: every single marker and every cluster is all ti', async () => {
    const page = await clustersOf(BEIJING, 10, { tag: 'ti' });
    expect(page.total).toBe((await searchIds(BEIJING, { tag: 'ti' })).size);
    const detail = await clustersOf(BEIJING, 17, { tag: 'ti' });
    for (const m of detail.items) {
      const res = await request(svc.app).get(`/v1/resources/${m.id}`);
      expect((res.body.tags as string[]).some((t) => t === 'ti' || t.startsWith('ti.'))).toBe(true);
    }
  });

  test('does not complain about a view with no resources', async () => {
    const page = await clustersOf([10, 10, 11, 11], 10);
    expect(page).toMatchObject({ total: 0, count: 0, items: [] });
  });

  test('does not complain about zero resources', async () => {
    const empty = await testService({ seed: false });
    try {
      const res = await request(empty.app).get('/v1/clusters').query({ bbox: BEIJING.join(','), zoom: 5 });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ total: 0, count: 0, items: [] });
    } finally {
      await empty.close();
    }
  });

  test('answers GCJ-02 coordinates when asked, for a GCJ-02 bbox', async () => {
    const wgs = await clustersOf(BEIJING, 17);
    const res = await request(svc.app).get('/v1/clusters').query({ bbox: '115.4,39.4,117.6,41.1', zoom: 17, crs: 'gcj02' });
    expect(res.status).toBe(200);
    expect(res.body.crs).toBe('gcj02');
    const a = wgs.items.find((m) => m.id === 'palace-museum')!;
    const b = (res.body.items as Marker[]).find((m) => m.id === 'palace-museum')!;
    // GCJ-02 is offset by several hundred metres in Beijing, mostly eastwards.
    expect(b.lng - a.lng).toBeGreaterThan(0.003);
  });

  test('every single marker shows its record\'s name and name_en, read from the snapshot, through edits', async () => {
    const expectNamesAsRecords = async () => {
      const records = new Map<string, { name: string; name_en: string | null }>();
      let cursor: string | undefined;
      do {
        const res = await request(svc.app).get('/v1/resources').query({ bbox: BEIJING.join(','), limit: 100, ...(cursor ? { cursor } : {}) });
        for (const r of res.body.items as { id: string; name: string; name_en: string | null }[]) records.set(r.id, { name: r.name, name_en: r.name_en });
        cursor = res.body.next_cursor ?? undefined;
      } while (cursor);
      const markers = (await clustersOf(BEIJING, 17)).items;
      expect(markers.length).toBe(records.size);
      for (const m of markers) expect({ id: m.id, name: m.name, name_en: m.name_en }).toEqual({ id: m.id, ...records.get(m.id) });
      return new Map(markers.map((m) => [m.id, m]));
    };
    const before = await expectNamesAsRecords();
    expect(before.get('palace-museum')).toMatchObject({ name: '故宫博物院', name_en: 'The Palace Museum' });
    const hall = { id: 'test-names', type: 'museum', lng: 116.41, lat: 39.91, tags: 'zhi', source: 'test' };
    // Case, a tab, a letter outside the BMP and a name_en, then a rename that clears name_en.
    await svc.importText([HEADER, csvLine({ ...hall, name: 'Ｔest\t馆 𠀋 Hall', name_en: 'The TEST Hall' })].join('\n'));
    expect((await expectNamesAsRecords()).get('test-names')).toMatchObject({ name: 'Ｔest\t馆 𠀋 Hall', name_en: 'The TEST Hall' });
    await svc.importText([HEADER, csvLine({ ...hall, name: '改名馆', name_en: '' })].join('\n'));
    expect((await expectNamesAsRecords()).get('test-names')).toMatchObject({ name: '改名馆', name_en: null });
  });

  test('a record re-imported with its tags in another order takes the colour of its new first domain', async () => {
    const colour = async (id: string) => (await clustersOf(BEIJING, 17)).items.find((m) => m.id === id)?.domain;
    await svc.importText([HEADER, csvLine({ id: 'test-hall', name: '测试体育馆', type: 'sports_venue', lng: 116.5, lat: 39.95, tags: 'mei|ti', source: 'test' })].join('\n'));
    expect(await colour('test-hall')).toBe('mei');
    await svc.importText([HEADER, csvLine({ id: 'test-hall', name: '测试体育馆', type: 'sports_venue', lng: 116.5, lat: 39.95, tags: 'ti.ball|mei', source: 'test' })].join('\n'));
    expect(await colour('test-hall')).toBe('ti');
  });

  test('a new import is clustered at once: the cache belongs to the snapshot it was built from', async () => {
    const before = await clustersOf(BEIJING, 10, { tag: 'lao' });
    await svc.importText([HEADER, csvLine({
      id: 'test-farm', name: '测试农场', type: 'farm', lng: 116.6, lat: 40.3, tags: 'lao.farming', source: 'test',
    })].join('\n'));
    const after = await clustersOf(BEIJING, 10, { tag: 'lao' });
    expect(after.total).toBe(before.total + 1);
  });

  test('oracle on 10,000 generated resources: exact counts in views cut through dense clusters, at every zoom', async () => {
    const dense = await testService({ seed: false });
    try {
      const rows = [...generateRows(10_000, 7)];
      const report = await dense.importText(`${COLUMNS.join(',')}\n${rows.map(genLine).join('')}`);
      expect(report.rejected_rows).toBe(0);
      const snap = dense.holder.current;
      const random = prng(42);
      const wholeView = new Map<string, Set<string>>();
      let viewsWithSplitClusters = 0;
      for (let k = 0; k < 150; k++) {
        const zoom = Math.floor(random() * 19);
        const span = Math.min(2, 1.5 / 2 ** (zoom - 9)) * (0.3 + random());
        const w = 116.1 + random() * 0.6;
        const s = 39.75 + random() * 0.35;
        const bbox: Bbox = [w, s, w + span * 1.3, s + span];
        const tags = k % 3 === 0 ? [['zhi.science']] : k % 3 === 1 ? [['ti', 'lao']] : undefined;
        const filters = { tags, limit: 10 };
        const got = await clusters(snap, filters, bbox, zoom);
        const truth = search(snap, { ...filters, bbox, limit: snap.size }).refs.length;
        expect({ k, zoom, total: got.total, sum: got.items.reduce((a, c) => a + c.count, 0) }).toEqual({ k, zoom, total: truth, sum: truth });
        // A marker that is not a marker of the whole-Beijing view at this zoom is a part of a split cluster.
        const key = `${k % 3}/${zoom}`;
        if (!wholeView.has(key)) {
          wholeView.set(key, new Set((await clusters(snap, filters, [115, 39, 118, 42], zoom)).items.map((c) => `${c.clusterId}/${c.ref?.i ?? -1}`)));
        }
        viewsWithSplitClusters += Number(got.items.some((c) => !wholeView.get(key)!.has(`${c.clusterId}/${c.ref?.i ?? -1}`)));
      }
      expect(viewsWithSplitClusters).toBeGreaterThan(20); // the views really cut through clusters
    } finally {
      await dense.close();
    }
  });

  test('free seats on a day: only resources with a slot that has room then, live as places are booked', async () => {
    const day = new Date(Date.now() + 8 * 3_600_000 + 2 * 86_400_000).toISOString().slice(0, 10);
    const filters = { available_from: `${day}T00:00+08:00`, available_to: `${day}T23:59+08:00`, seats: '2' };
    expect((await clustersOf(BEIJING, 17, filters)).total).toBe(0);
    const created = await request(svc.app).post('/v1/resources/palace-museum/slots').set('Authorization', `Bearer ${ADMIN_KEY}`)
      .send({ slots: [{ start: `${day}T09:00+08:00`, end: `${day}T10:00+08:00`, capacity: { individual: 2 } }] });
    expect(created.status).toBe(201);
    const open = await clustersOf(BEIJING, 17, filters);
    expect(open.items.map((m) => m.id)).toEqual(['palace-museum']);
    expect(open.total).toBe((await searchIds(BEIJING, filters)).size);
    const booked = await request(svc.app).post('/v1/bookings').set('Idempotency-Key', 'clusters-test-1')
      .send({ slot_id: created.body.items[0].id, kind: 'individual', party_size: 1, contact: { name: '李华', phone: '13900000001' } });
    expect(booked.status).toBe(201);
    expect((await clustersOf(BEIJING, 17, filters)).total).toBe(0); // one place left, two wanted
    expect((await clustersOf(BEIJING, 17, { ...filters, seats: '1' })).total).toBe(1);
  });

  describe('bad parameters are 400s naming the field', () => {
    test.each([
      ['bbox missing', { zoom: '10' }, 'query.bbox'],
      ['zoom missing', { bbox: '116,39,117,40' }, 'query.zoom'],
      ['zoom not an integer', { bbox: '116,39,117,40', zoom: '10.5' }, 'query.zoom'],
      ['zoom too large', { bbox: '116,39,117,40', zoom: '23' }, 'query.zoom'],
      ['zoom negative', { bbox: '116,39,117,40', zoom: '-1' }, 'query.zoom'],
      ['bbox with three numbers', { bbox: '116,39,117', zoom: '10' }, 'query.bbox'],
      ['bbox min above max', { bbox: '117,39,116,40', zoom: '10' }, 'query.bbox'],
      ['bbox latitude out of range', { bbox: '116,39,117,95', zoom: '10' }, 'query.bbox'],
      ['an unknown parameter', { bbox: '116,39,117,40', zoom: '10', limit: '10' }, 'query.limit'],
      ['an unknown tag', { bbox: '116,39,117,40', zoom: '10', tag: 'swimmingg' }, 'query.tag[0]'],
      ['a bad open_at', { bbox: '116,39,117,40', zoom: '10', open_at: 'tomorrow' }, 'query.open_at'],
      ['seats without available_from', { bbox: '116,39,117,40', zoom: '10', seats: '2' }, 'query.available_from'],
      ['a bad available_from', { bbox: '116,39,117,40', zoom: '10', available_from: 'soon' }, 'query.available_from'],
    ])('%s', async (_name, query, path) => {
      const res = await request(svc.app).get('/v1/clusters').query(query);
      expect(res.status).toBe(400);
      expect(res.type).toBe('application/problem+json');
      expect((res.body.errors as { path: string }[]).map((e) => e.path)).toContain(path);
    });
  });
});
