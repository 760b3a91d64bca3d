import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { booleanPointInPolygon } from '@turf/turf';
import { createRandom } from '../scripts/gen.js';
import { AreaIndex, districtsFromGeoJson } from '../src/geo/areas.js';
import { ROOT } from './support.js';

const districts = districtsFromGeoJson(JSON.parse(readFileSync(join(ROOT, 'data/districts.wgs84.geojson'), 'utf8')));
const index = new AreaIndex(districts);

/** The oracle: test every polygon, take the smallest adcode among those that hold the point. */
const bruteForce = (p: [number, number]) => districts.filter((d) => booleanPointInPolygon(p, d.geometry)).map((d) => d.id).sort()[0];

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
