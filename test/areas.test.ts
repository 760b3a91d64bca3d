import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { booleanPointInPolygon, pointToPolygonDistance } from '@turf/turf';
import { createRandom } from '../scripts/gen.js';
import { AreaIndex, SLIVER_M, districtsFromGeoJson, metresToSegment } from '../src/geo/areas.js';
import { ROOT } from './support.js';

const districts = districtsFromGeoJson(JSON.parse(readFileSync(join(ROOT, 'data/districts.wgs84.geojson'), 'utf8')));
const index = new AreaIndex(districts);

/**
 * The oracle: test every polygon, take the smallest adcode among those that hold the point; in none, the
 * district with the nearest outline segment within 25 m (the slivers between neighbours' outlines), every
 * segment of every district measured.
 */
const segments = districts.flatMap((d) => (d.geometry.type === 'Polygon' ? d.geometry.coordinates : d.geometry.coordinates.flat())
  .flatMap((ring) => ring.slice(1).map((b, i) => ({ id: d.id, a: ring[i], b }))));
/** The segments' ends as one flat array (ax, ay, bx, by), so that measuring all of them per point stays quick. */
const ends = Float64Array.from(segments.flatMap(({ a, b }) => [a[0], a[1], b[0], b[1]]));
/** 25 m is under 0.0003° of longitude or latitude at Beijing: a segment whose box is farther cannot be within it. */
const PAD = 3e-4;
const bruteForce = (p: [number, number]) => {
  const holding = districts.filter((d) => booleanPointInPolygon(p, d.geometry)).map((d) => d.id).sort()[0];
  if (holding) return holding;
  let best: { id: string; m: number } | undefined;
  const [x, y] = p;
  for (let i = 0; i < segments.length; i++) {
    const ax = ends[4 * i], ay = ends[4 * i + 1], bx = ends[4 * i + 2], by = ends[4 * i + 3];
    if ((x < ax - PAD && x < bx - PAD) || (x > ax + PAD && x > bx + PAD) || (y < ay - PAD && y < by - PAD) || (y > ay + PAD && y > by + PAD)) continue;
    const { id, a, b } = segments[i];
    const m = metresToSegment(p, a, b);
    if (m <= SLIVER_M && (!best || m < best.m || (m === best.m && id < best.id))) best = { id, m };
  }
  return best?.id;
};

describe('district lookup', () => {
  test('agrees with testing every polygon, on 20,000 random points over and around Beijing', () => {
    const rand = createRandom(5);
    for (let k = 0; k < 20_000; k++) {
      const p: [number, number] = [115.3 + rand() * 2.3, 39.4 + rand() * 1.7];
      expect([p, index.districtOf(p)?.id]).toEqual([p, bruteForce(p)]);
    }
  });

  test('agrees on points on and next to the boundaries (where the grid defers to the exact test)', () => {
    const rand = createRandom(6);
    for (const d of districts) {
      const rings = d.geometry.type === 'Polygon' ? d.geometry.coordinates : d.geometry.coordinates.flat();
      for (const ring of rings) {
        for (let k = 0; k < ring.length; k += 37) {
          const [x, y] = ring[k];
          for (const p of [[x, y], [x + (rand() - 0.5) * 1e-4, y + (rand() - 0.5) * 1e-4]] as [number, number][]) {
            expect([p, index.districtOf(p)?.id]).toEqual([p, bruteForce(p)]);
          }
        }
      }
    }
  });

  test('a point in a sliver between two districts\' outlines is in the nearer one; a point 1 km outside Beijing in none', () => {
    // In no polygon of the boundary data (a gap of under a metre), though in the middle of the city.
    for (const [p, id] of [[[116.365, 39.955], '110108'], [[116.359, 39.945], '110102'], [[116.393, 39.961], '110101']] as [[number, number], string][]) {
      expect(districts.some((d) => booleanPointInPolygon(p, d.geometry))).toBe(false);
      expect(index.districtOf(p)?.id).toBe(id);
    }
    expect(index.districtOf([115.41, 39.45])).toBeUndefined();
  });

  test('the local-plane distance to an outline agrees with turf\'s geodesic one to within 1 %, near the outlines', () => {
    const rand = createRandom(8);
    for (let k = 0; k < 200; k++) {
      const { a, b } = segments[Math.floor(rand() * segments.length)];
      const p: [number, number] = [a[0] + (rand() - 0.5) * 6e-4, a[1] + (rand() - 0.5) * 6e-4];
      const line = { type: 'Polygon' as const, coordinates: [[a, b, [a[0] + 1e-9, a[1]], a]] };
      const turf = Math.abs(pointToPolygonDistance(p, line, { units: 'meters' }));
      expect(Math.abs(metresToSegment(p, a, b) - turf)).toBeLessThanOrEqual(0.01 * turf + 0.05);
    }
  });

  test('known places land in their districts', () => {
    const places: [string, [number, number], string][] = [
      ['故宫', [116.3908, 39.9163], '110101'], ['中国国家图书馆', [116.3236, 39.9425], '110108'],
      ['首都博物馆', [116.3411, 39.9056], '110102'], ['八达岭', [116.0155, 40.3588], '110119'],
      ['环球度假区', [116.6735, 39.8535], '110112'], ['十渡', [115.5880, 39.6356], '110111'],
    ];
    for (const [name, p, id] of places) expect([name, index.districtOf(p)?.id]).toEqual([name, id]);
  });

  test('outside Beijing there is no district', () => {
    expect(index.districtOf([121.4737, 31.2304])).toBeUndefined();
    expect(index.districtOf([0, 0])).toBeUndefined();
  });
});
