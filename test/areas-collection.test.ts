import request from 'supertest';
import { testService, type TestService } from './support.js';

let svc: TestService;
beforeAll(async () => {
  svc = await testService({ seed: false });
});
afterAll(() => svc.close());

type Ring = [number, number][];
interface Collection { type: string; crs: string; features: { type: string; id: string; geometry: { type: string; coordinates: unknown }; properties: { name: string; kind: string } }[] }

const firstPoint = (geometry: { type: string; coordinates: unknown }): [number, number] =>
  (geometry.type === 'Polygon' ? (geometry.coordinates as Ring[])[0][0] : (geometry.coordinates as Ring[][])[0][0][0]);

describe('GET /v1/areas?format=geojson: every outline in one answer', () => {
  test('the 16 districts as a FeatureCollection, each Feature as GET /v1/areas/{id} answers it', async () => {
    const res = await request(svc.app).get('/v1/areas?format=geojson&kind=district');
    expect(res.status).toBe(200);
    expect(res.type).toBe('application/geo+json');
    const fc = res.body as Collection;
    expect(fc.type).toBe('FeatureCollection');
    expect(fc.crs).toBe('wgs84');
    expect(fc.features.map((f) => f.id)).toEqual((await request(svc.app).get('/v1/areas?kind=district')).body.items.map((a: { id: string }) => a.id));
    const one = (await request(svc.app).get('/v1/areas/110101')).body;
    const { crs: _crs, ...feature } = one;
    expect(fc.features.find((f) => f.id === '110101')).toEqual(feature);
  });

  test('in GCJ-02 when asked: every point as the single-area answer converts it', async () => {
    const fc = (await request(svc.app).get('/v1/areas?format=geojson&kind=district&crs=gcj02')).body as Collection;
    expect(fc.crs).toBe('gcj02');
    const wgs = (await request(svc.app).get('/v1/areas?format=geojson&kind=district')).body as Collection;
    const one = (await request(svc.app).get('/v1/areas/110108?crs=gcj02')).body;
    expect(fc.features.find((f) => f.id === '110108')!.geometry).toEqual(one.geometry);
    // Beijing's GCJ-02 offset: some 0.006° east and 0.001° north.
    const [g, w] = [firstPoint(fc.features[0].geometry), firstPoint(wgs.features[0].geometry)];
    expect(g[0] - w[0]).toBeGreaterThan(0.004);
    expect(g[0] - w[0]).toBeLessThan(0.008);
    expect(g[1] - w[1]).toBeGreaterThan(0);
  });

  test('the plain list stays the default, and format=json asks for it', async () => {
    const plain = await request(svc.app).get('/v1/areas');
    expect(plain.type).toBe('application/json');
    expect(plain.body.count).toBe(16);
    expect((await request(svc.app).get('/v1/areas?format=json')).body).toEqual(plain.body);
  });

  test('an unknown format or crs is a 400 naming the parameter', async () => {
    for (const [q, path] of [['format=kml', 'query.format'], ['format=geojson&crs=utm', 'query.crs'], ['format=geojson&simplify=1', 'query.simplify']]) {
      const res = await request(svc.app).get(`/v1/areas?${q}`);
      expect({ q, status: res.status, type: res.type, paths: res.body.errors?.map((e: { path: string }) => e.path) })
        .toEqual({ q, status: 400, type: 'application/problem+json', paths: [path] });
    }
  });
});
