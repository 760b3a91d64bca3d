import { renameSync } from 'node:fs';
import { PartsBuilder } from '../src/engine/builder.js';
import { vocabulary } from '../src/engine/parts.js';
import { View } from '../src/engine/view.js';
import { search } from '../src/engine/search.js';
import { PostgresDatabase } from '../src/store/postgres.js';
import { HEADER, OPERATOR, csvLine, plainParts, testService, type TestService } from './support.js';

let svc: TestService;
afterEach(() => svc?.close());

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
      expect(plainParts(a)).toEqual(plainParts(b));
      expect(a.size).toBe(view.size);
    } finally {
      await inWorker.close();
    }
    const found = search(view, { near: [116.397, 39.918], limit: 5 });
    expect(found.refs.map(View.idOf)).toHaveLength(5);
  });

  test('fold a base and the changes since in the worker as the main thread does, and leave the base intact', async () => {
    svc = await testService({ seed: true, config: { snapshotBuild: 'worker', foldDelayMs: 3_600_000 } });
    const base = svc.holder.current.base;
    const before = plainParts(base.parts);
    const vocab = base.ctx.vocab;
    const [first, second] = [base.idOf(0), base.idOf(1)];
    await svc.edits.remove(first, OPERATOR);
    const moved = { id: second, name: '移动的场馆', type: 'museum', lng: 116.41, lat: 39.91, tags: 'zhi.history', stages: 'primary', source: 'test' };
    expect(await svc.importText(`${HEADER}\n${csvLine(moved)}`)).toMatchObject({ updated: 1, rejected: [] });
    const inWorker = new PartsBuilder(svc.db, 'worker');
    const inline = new PartsBuilder(svc.db, 'inline');
    try {
      const [a, b] = await Promise.all([inWorker.fold(base.parts, vocab, 1e9), inline.fold(base.parts, vocab, 1e9)]);
      expect([a.how, b.how]).toEqual(['fold', 'fold']);
      expect(plainParts(a.parts)).toEqual(plainParts(b.parts));
      expect(plainParts(a.parts)).toEqual(plainParts(await inline.build(vocab)));
      expect(a.parts.size).toBe(base.size - 1);
    } finally {
      await inWorker.close();
    }
    // The base went to the worker as shared memory: still whole here, and still answering.
    expect(plainParts(base.parts)).toEqual(before);
    expect(search(svc.holder.current, { near: [116.397, 39.918], limit: 5 }).refs).toHaveLength(5);
  });

  test('parts are shared memory and hold no large string: nothing that grows with the store is copied between threads', async () => {
    svc = await testService({ seed: true });
    const parts = await new PartsBuilder(svc.db, 'inline').build(vocabulary(svc.tax, svc.holder.current.districts));
    // Strings are copied on arrival, and so are arrays on unshared buffers: the strings left are one per
    // distinct opening-hours text, and every array is on a SharedArrayBuffer.
    const strings: string[] = [];
    const buffers: ArrayBufferLike[] = [];
    const walk = (x: unknown): void => {
      if (typeof x === 'string') strings.push(x);
      else if (ArrayBuffer.isView(x)) buffers.push(x.buffer);
      else if (x instanceof ArrayBuffer || x instanceof SharedArrayBuffer) buffers.push(x);
      else if (x instanceof Map) for (const [k, v] of x) { walk(k); walk(v); }
      else if (Array.isArray(x)) x.forEach(walk);
      else if (x && typeof x === 'object') Object.values(x).forEach(walk);
    };
    const { hoursText, termPostings, typePostings, districtPostings, ...rest } = parts; // the maps' keys: the vocabulary
    walk(rest);
    for (const map of [termPostings, typePostings, districtPostings]) [...map.values()].forEach(walk);
    expect(strings).toEqual([]);
    expect(buffers.length).toBeGreaterThan(15);
    expect(buffers.filter((b) => !(b instanceof SharedArrayBuffer))).toEqual([]);
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
