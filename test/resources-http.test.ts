import request from 'supertest';
import gcoordModule from 'gcoord';
import { ADMIN_KEY, HEADER, csvLine, testService, type TestService } from './support.js';

const gcoord = gcoordModule as unknown as typeof gcoordModule.default;

let svc: TestService;
beforeAll(async () => {
  svc = await testService();
});
afterAll(() => svc.close());

const get = (url: string) => request(svc.app).get(url);
type Item = { id: string; name: string; tags: string[]; district: { code: string }; location: { lng: number; lat: number }; distance_m?: number };

describe('GET /v1/resources over the bundled Beijing data', () => {
  test('area=110101&tag=德育 lists real places in 东城区 tagged 德 or a descendant', async () => {
    const res = await get(`/v1/resources?area=110101&tag=${encodeURIComponent('德育')}&limit=100`);
    expect(res.status).toBe(200);
    expect(res.body.count).toBeGreaterThan(5);
    const names = res.body.items.map((i: Item) => i.name);
    expect(names).toContain('北京新文化运动纪念馆（北大红楼）');
    for (const item of res.body.items as Item[]) {
      expect(item.district.code).toBe('110101');
      expect(item.tags.some((t) => t === 'de' || t.startsWith('de.'))).toBe(true);
    }
  });

  test('a descendant term matches: tag=zhi finds resources tagged only zhi.science', async () => {
    const res = await get('/v1/resources?tag=zhi&limit=100&type=science_museum');
    expect(res.body.items.length).toBeGreaterThan(0);
    expect(res.body.items.every((i: Item) => i.tags.some((t) => t === 'zhi' || t.startsWith('zhi.')))).toBe(true);
  });

  test('tag values AND across parameters, OR within a|b', async () => {
    const both = await get('/v1/resources?tag=ti&tag=mei&limit=100');
    for (const i of both.body.items as Item[]) {
      expect(i.tags.some((t) => t.startsWith('ti'))).toBe(true);
      expect(i.tags.some((t) => t.startsWith('mei'))).toBe(true);
    }
    const either = await get('/v1/resources?tag=ti|lao&limit=100');
    expect(either.body.count).toBeGreaterThan(both.body.count);
    for (const i of either.body.items as Item[]) expect(i.tags.some((t) => t.startsWith('ti') || t.startsWith('lao'))).toBe(true);
  });

  test('near sorts by distance and gives distance_m; a cursor walks every page exactly once', async () => {
    const seen: string[] = [];
    let url = '/v1/resources?near=116.3972,39.9163&limit=7';
    let last = -1;
    for (let page = 0; page < 100 && url; page++) {
      const res = await get(url);
      expect(res.status).toBe(200);
      for (const item of res.body.items as Item[]) {
        expect(item.distance_m).toBeGreaterThanOrEqual(last);
        last = item.distance_m!;
        seen.push(item.id);
      }
      url = res.body.next_cursor ? `/v1/resources?near=116.3972,39.9163&limit=7&cursor=${res.body.next_cursor}` : '';
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(svc.holder.current.size);
  });

  test('a GCJ-02 query point returns the same places as its WGS-84 twin, answered in GCJ-02', async () => {
    const wgs: [number, number] = [116.3908, 39.9163];
    const gcj = gcoord.transform(wgs, gcoord.WGS84, gcoord.GCJ02) as [number, number];
    const a = await get(`/v1/resources?near=${wgs.join(',')}&limit=10`);
    const b = await get(`/v1/resources?near=${gcj.join(',')}&limit=10&crs=gcj02`);
    expect(b.body.crs).toBe('gcj02');
    expect(b.body.items.map((i: Item) => i.id)).toEqual(a.body.items.map((i: Item) => i.id));
    (a.body.items as Item[]).forEach((w, k) => {
      const g = b.body.items[k] as Item;
      const expected = gcoord.transform([w.location.lng, w.location.lat], gcoord.WGS84, gcoord.GCJ02) as [number, number];
      expect(g.location.lng).toBeCloseTo(expected[0], 6);
      expect(g.location.lat).toBeCloseTo(expected[1], 6);
      expect(Math.abs(g.distance_m! - w.distance_m!)).toBeLessThanOrEqual(1);
    });
  });

  test('format=geojson answers a FeatureCollection with the crs stated', async () => {
    const res = await get('/v1/resources?near=116.3972,39.9163&limit=3&format=geojson&crs=bd09');
    expect(res.status).toBe(200);
    expect(res.type).toBe('application/geo+json');
    expect(res.body).toMatchObject({ type: 'FeatureCollection', crs: 'bd09' });
    expect(res.body.features[0]).toMatchObject({ type: 'Feature', geometry: { type: 'Point' } });
    expect(res.body.features[0].properties.distance_m).toBeGreaterThanOrEqual(0);
  });

  test('q, type, stage, free and open_at filter', async () => {
    const res = await get(`/v1/resources?q=${encodeURIComponent('博物')}&type=museum,science_museum&stage=junior&free=false&open_at=2026-12-05T10:00&limit=100`);
    expect(res.status).toBe(200);
    expect(res.body.count).toBeGreaterThan(0);
    for (const i of res.body.items) {
      expect(i.name).toContain('博物');
      expect(['museum', 'science_museum']).toContain(i.type);
      expect(i.stages).toContain('junior');
      expect(i.free).toBe(false);
      expect(i.opening_hours).toBeTruthy();
    }
  });

  test('GET /v1/resources/{id} answers one resource, in the crs asked for', async () => {
    const res = await get('/v1/resources/palace-museum?crs=gcj02');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: 'palace-museum', name: '故宫博物院', crs: 'gcj02' });
  });
});

describe('errors are problem+json naming the field', () => {
  test.each([
    ['/v1/resources?colour=red', 'query.colour'],
    ['/v1/resources?limit=0', 'query.limit'],
    ['/v1/resources?limit=101', 'query.limit'],
    ['/v1/resources?limit=ten', 'query.limit'],
    ['/v1/resources?near=116.4', 'query.near'],
    ['/v1/resources?near=200,39.9', 'query.near'],
    ['/v1/resources?near=116.4,95', 'query.near'],
    ['/v1/resources?radius_km=5', 'query.radius_km'],
    ['/v1/resources?near=116.4,39.9&radius_km=-1', 'query.radius_km'],
    ['/v1/resources?bbox=1,2,3', 'query.bbox'],
    ['/v1/resources?bbox=117,40,116,39', 'query.bbox'],
    ['/v1/resources?area=999999', 'query.area'],
    ['/v1/resources?tag=sciense', 'query.tag[0]'],
    ['/v1/resources?tag=ti&tag=', 'query.tag[1]'],
    ['/v1/resources?type=castle', 'query.type'],
    ['/v1/resources?stage=university', 'query.stage'],
    ['/v1/resources?open_at=saturday', 'query.open_at'],
    ['/v1/resources?open_at=2026-02-30T10:00', 'query.open_at'],
    ['/v1/resources?free=maybe', 'query.free'],
    ['/v1/resources?crs=utm', 'query.crs'],
    ['/v1/resources?format=kml', 'query.format'],
    ['/v1/resources?cursor=not-a-cursor', 'query.cursor'],
    ['/v1/resources?q=', 'query.q'],
    ['/v1/resources/bad%20id', 'path.id'],
    ['/v1/areas?kind=city', 'query.kind'],
    ['/v1/areas/110101?crs=x', 'query.crs'],
  ])('%s → 400 naming %s', async (url, path) => {
    const res = await get(url);
    expect(res.status).toBe(400);
    expect(res.type).toBe('application/problem+json');
    expect(res.body).toMatchObject({ status: 400, type: expect.stringContaining('https://') });
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
  });

  test('an unknown tag suggests the nearest known terms', async () => {
    const res = await get('/v1/resources?tag=sciense');
    expect(res.body.detail).toMatch(/did you mean 'zhi.science'/);
    expect(res.body.suggestions).toContain('zhi.science');
  });

  test('a cursor used with other filters is a 400, not a silent restart', async () => {
    const first = await get('/v1/resources?tag=ti&limit=2');
    const res = await get(`/v1/resources?tag=mei&limit=2&cursor=${first.body.next_cursor}`);
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toMatchObject({ path: 'query.cursor', message: 'belongs to a different query' });
  });

  test('404s: a resource, an area, a route', async () => {
    for (const url of ['/v1/resources/no-such-place', '/v1/areas/110100', '/v1/nothing']) {
      const res = await get(url);
      expect(res.status).toBe(404);
      expect(res.type).toBe('application/problem+json');
    }
  });

  test('an error thrown by a handler that is not an AppError is a bare 500, logged, never leaked', async () => {
    const broken = await testService({ seed: false });
    try {
      // Make the store fail underneath a request: the answer must not carry the database's message.
      await broken.db.run('DROP TABLE resources');
      await broken.importText([HEADER].join('\n')).catch(() => undefined);
      const res = await request(broken.app).get('/v1/resources/anything').set('Accept', 'application/json');
      expect([404, 500]).toContain(res.status);
      const res2 = await request(broken.app).post('/v1/imports').set('Authorization', `Bearer ${ADMIN_KEY}`).type('text/csv')
        .send([HEADER, csvLine({ id: 'x', name: 'x', type: 'park', lng: 116.4, lat: 39.9, tags: 'ti' })].join('\n'));
      expect(res2.status).toBe(500);
      expect(res2.body).toMatchObject({ status: 500, title: 'Internal server error' });
      expect(JSON.stringify(res2.body)).not.toMatch(/no such table|SQLITE|does not exist|relation/i);
    } finally {
      await broken.close();
    }
  });
});

describe('catalogue and operations', () => {
  test('taxonomy tree with the five roots, children and aliases', async () => {
    const res = await get('/v1/taxonomy');
    const roots = res.body.terms.filter((t: { parent: null; facet: string }) => t.parent === null && t.facet === 'domain').map((t: { id: string }) => t.id);
    expect(roots).toEqual(['de', 'zhi', 'ti', 'mei', 'lao']);
    const zhi = res.body.terms.find((t: { id: string }) => t.id === 'zhi');
    expect(zhi.children).toContain('zhi.science');
    expect(res.body.version).toMatch(/^\d{4}\./);
  });

  test('16 districts, each with its resources counted; one as a GeoJSON Feature in GCJ-02', async () => {
    const list = await get('/v1/areas');
    expect(list.body.count).toBe(16);
    expect(list.body.items.every((a: { resources: number }) => a.resources > 0)).toBe(true);
    const one = await get('/v1/areas/110108?crs=gcj02');
    expect(one.body).toMatchObject({ type: 'Feature', id: '110108', crs: 'gcj02', properties: { name: '海淀区' } });
  });

  test('healthz, readyz, openapi.yaml', async () => {
    expect((await get('/healthz')).body).toEqual({ status: 'ok' });
    expect((await get('/readyz')).body).toMatchObject({ status: 'ready', resources: svc.holder.current.size });
    const doc = await get('/openapi.yaml');
    expect(doc.text).toMatch(/^openapi: 3\.1/);
  });
});

describe('POST /v1/imports', () => {
  const file = [HEADER, csvLine({ id: 'new-park', name: '新公园', type: 'park', lng: 116.42, lat: 39.93, tags: 'ti|亲子' })].join('\n');
  const post = () => request(svc.app).post('/v1/imports');

  test('401 without a key, 403 with a wrong one', async () => {
    expect((await post().type('text/csv').send(file)).status).toBe(401);
    const res = await post().set('Authorization', 'Bearer not-the-key-0000000').type('text/csv').send(file);
    expect(res.status).toBe(403);
    expect(res.type).toBe('application/problem+json');
  });

  test('415 for a body that is not CSV', async () => {
    const res = await post().set('Authorization', `Bearer ${ADMIN_KEY}`).set('Content-Type', 'application/json').send('{}');
    expect(res.status).toBe(415);
  });

  test('400 for a bad option, and for a file with an unknown column', async () => {
    const opt = await post().query({ crs: 'utm' }).set('Authorization', `Bearer ${ADMIN_KEY}`).type('text/csv').send(file);
    expect(opt.status).toBe(400);
    expect(opt.body.errors[0].path).toBe('query.crs');
    const col = await post().set('Authorization', `Bearer ${ADMIN_KEY}`).type('text/csv').send(file.replace('lat', 'lta'));
    expect(col.status).toBe(400);
    expect(col.body.detail).toMatch(/unknown column 'lta'/);
  });

  test('413 for a file over the limit', async () => {
    const small = await testService({ seed: false, config: { importMaxBytes: 2048 } });
    try {
      const res = await request(small.app).post('/v1/imports').set('Authorization', `Bearer ${ADMIN_KEY}`).type('text/csv').send(file + '\n' + 'x,'.repeat(2000));
      expect(res.status).toBe(413);
    } finally {
      await small.close();
    }
  });

  test('a dry run reports and writes nothing; a real import is searchable at once', async () => {
    const dry = await post().query({ dry_run: true }).set('Authorization', `Bearer ${ADMIN_KEY}`).type('text/csv').send(file);
    expect(dry.body).toMatchObject({ dry_run: true, applied: false, inserted: 1 });
    expect((await get('/v1/resources/new-park')).status).toBe(404);
    const real = await post().set('Authorization', `Bearer ${ADMIN_KEY}`).type('text/csv').send(file);
    expect(real.status).toBe(200);
    expect(real.body).toMatchObject({ applied: true, inserted: 1, rejected: [] });
    expect((await get('/v1/resources/new-park')).body.tags).toEqual(['ti', 'scenario.family']);
  });
});
