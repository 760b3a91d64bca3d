import { renameSync } from 'node:fs';
import { PartsBuilder } from '../src/engine/builder.js';
import { transferables, vocabulary, type SnapshotParts } from '../src/engine/parts.js';
import { View } from '../src/engine/view.js';
import { search } from '../src/engine/search.js';
import { PostgresDatabase } from '../src/store/postgres.js';
import { OPERATOR, testService, type TestService } from './support.js';

let svc: TestService;
afterEach(() => svc?.close());

/** The parts' data as plain arrays, to compare builds. */
function plain(p: SnapshotParts) {
  const { points: _points, termPostings, typePostings, districtPostings, names, ...rest } = p;
  const lists = (m: Map<string, Uint32Array>) => Object.fromEntries([...m].map(([k, v]) => [k, Array.from(v)]));
  return {
    ...Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, ArrayBuffer.isView(v) ? Array.from(v as Uint8Array) : v])),
    terms: lists(termPostings), types: lists(typePostings), districts: lists(districtPostings), names: Buffer.from(names.bytes).toString('utf8'),
  };
}

describe('full builds in a worker thread', () => {
  test('build the same parts as the main thread, and the service answers from them', async () => {
    svc = await testService({ seed: true, config: { snapshotBuild: 'worker' } });
    const view = svc.holder.current;
    expect(view.size).toBeGreaterThan(100);
    const vocab = vocabulary(svc.tax, view.districts);
    const inWorker = new PartsBuilder(svc.db, 'worker');
    const inline = new PartsBuilder(svc.db, 'inline');
    try {
      const [a, b] = await Promise.all([inWorker.build(vocab), inline.build(vocab)]);
      expect(plain(a)).toEqual(plain(b));
      expect(a.size).toBe(view.size);
    } finally {
      await inWorker.close();
    }
    const found = search(view, { near: [116.397, 39.918], limit: 5 });
    expect(found.refs.map(View.idOf)).toHaveLength(5);
  });

  test('parts hold no large string: everything that grows with the store is transferred, not copied', async () => {
    svc = await testService({ seed: true });
    const parts = await new PartsBuilder(svc.db, 'inline').build(vocabulary(svc.tax, svc.holder.current.districts));
    const moved = new Set(transferables(parts));
    const grows = [parts.ids, parts.idStart, parts.names.bytes, parts.names.start, parts.seqs, parts.lng, parts.lat, parts.termMask];
    for (const array of grows) expect(moved.has(array.buffer as ArrayBuffer)).toBe(true);
    // Strings are copied on arrival; the only ones left are one per distinct opening-hours text.
    const strings: string[] = [];
    const walk = (x: unknown): void => {
      if (typeof x === 'string') strings.push(x);
      else if (x instanceof Map) for (const [k, v] of x) { walk(k); walk(v); }
      else if (Array.isArray(x)) x.forEach(walk);
      else if (x && typeof x === 'object' && !ArrayBuffer.isView(x) && !(x instanceof ArrayBuffer)) Object.values(x).forEach(walk);
    };
    const { hoursText, termPostings: _terms, typePostings: _types, districtPostings: _districts, ...rest } = parts; // their keys: the vocabulary
    walk(rest);
    expect(strings).toEqual([]);
    expect(hoursText.length).toBeLessThan(parts.size);
    expect(Buffer.from(parts.ids).toString('utf8').split('\n')).toHaveLength(parts.size);
  });

  test('a change of areas is indexed by a full build in the worker, with the new areas', async () => {
    svc = await testService({ seed: true, config: { snapshotBuild: 'worker', foldDelayMs: 3_600_000 } });
    const before = svc.holder.stats.full;
    const collection = {
      type: 'FeatureCollection',
      features: [{ type: 'Feature', properties: { id: 'sd-test', kind: 'school_district', name: '测试学区', parent: '110101' },
        geometry: { type: 'Polygon', coordinates: [[[116.39, 39.9], [116.42, 39.9], [116.42, 39.93], [116.39, 39.93], [116.39, 39.9]]] } }],
    };
    expect((await svc.areaEdits.upload(collection, 'wgs84', OPERATOR)).rejected).toEqual([]);
    expect(svc.holder.stats.full).toBeGreaterThan(before);
    expect(svc.holder.current.area('sd-test')?.name).toBe('测试学区');
  });

  test('a store that cannot be opened by the worker thread fails the build with the reason', async () => {
    svc = await testService({ seed: false });
    if (svc.db instanceof PostgresDatabase) {
      // The worker connects on its own: to a database that is not there.
      const url = new URL(svc.db.connectionUrl);
      url.pathname = '/edumap_no_such_database';
      const elsewhere = PostgresDatabase.open(url.toString());
      const builder = new PartsBuilder(elsewhere, 'worker');
      try {
        await expect(builder.build(vocabulary(svc.tax, svc.holder.current.districts))).rejects.toThrow(/edumap_no_such_database/);
      } finally {
        await builder.close();
        await elsewhere.close();
      }
      return;
    }
    const builder = new PartsBuilder(svc.db, 'worker');
    try {
      // The worker opens the file read-only and must find it: move it away under the builder.
      const path = svc.config.dbPath;
      renameSync(path, `${path}.moved`);
      try {
        await expect(builder.build(vocabulary(svc.tax, svc.holder.current.districts))).rejects.toThrow(/snapshot build worker failed: .*cannot open/);
      } finally {
        renameSync(`${path}.moved`, path);
      }
    } finally {
      await builder.close();
    }
  });
});
