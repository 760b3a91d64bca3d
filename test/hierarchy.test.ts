import { COLUMNS, createRandom, csvLine, generateRows } from '../scripts/gen.js';
import KDBush from 'kdbush';
import { buildHierarchy, clusterIndex, hierarchyBytes, Markers, COUNT_KEYS, type Aggregate, type ClusterIndex, type HierarchyInput, type Item } from '../src/engine/hierarchy.js';
import { PartsBuilder } from '../src/engine/builder.js';
import { clusters, hierarchiesOf } from '../src/engine/clusters.js';
import { search } from '../src/engine/search.js';
import { shared } from '../src/engine/shared.js';
import { testService, type TestService } from './support.js';

let svc: TestService;
afterEach(() => svc?.close());

/** Random views at every zoom: a bbox and a zoom each. */
function views(rand: () => number): { bbox: [number, number, number, number]; zoom: number }[] {
  return Array.from({ length: 60 }, () => {
    const zoom = Math.floor(rand() * 19);
    const w = 116 + rand() * 0.6;
    const s = 39.7 + rand() * 0.4;
    return { bbox: [w, s, w + 0.02 + rand() * 0.8, s + 0.02 + rand() * 0.5], zoom };
  });
}

const AGGREGATE = ['w', 's', 'e', 'n', ...COUNT_KEYS] as const;

/** Supercluster's own answers for the views: markers (clusters with their aggregates, points), children and expansion zooms of some. */
function superclusterAnswers(index: ClusterIndex, rand: () => number): unknown[] {
  type Feature = ReturnType<ClusterIndex['getClusters']>[number];
  const marker = ({ properties: p, geometry }: Feature) => ('cluster' in p && p.cluster
    ? { cluster: p.cluster_id, count: p.point_count, at: geometry.coordinates, aggregate: AGGREGATE.map((key) => (p as Aggregate)[key]) }
    : { point: p });
  const out: unknown[] = [];
  for (const { bbox, zoom } of views(rand)) {
    const markers = index.getClusters(bbox, zoom);
    out.push(markers.map(marker));
    for (const m of markers.slice(0, 5)) {
      if (!('cluster' in m.properties)) continue;
      const id = m.properties.cluster_id;
      out.push(index.getChildren(id).map(marker), index.getClusterExpansionZoom(id));
    }
  }
  return out;
}

/** The same answers read through `Markers`. */
function markersAnswers(markers: Markers, rand: () => number): unknown[] {
  const marker = (item: Item) => (markers.isCluster(item)
    ? { cluster: markers.clusterId(item), count: markers.count(item), at: markers.position(item),
      aggregate: AGGREGATE.map((_, j) => markers.aggregate(markers.aggregateAt(item), j)) }
    : { point: markers.point(item) });
  const out: unknown[] = [];
  for (const { bbox, zoom } of views(rand)) {
    const items = markers.inView(bbox, zoom);
    out.push(items.map(marker));
    for (const item of items.slice(0, 5)) {
      if (!markers.isCluster(item)) continue;
      const id = markers.clusterId(item);
      out.push(markers.children(id).map(marker), markers.expansionZoom(id));
    }
  }
  return out;
}

describe('cluster hierarchies built off the main thread', () => {
  test('a hierarchy handed over as shared arrays answers exactly as supercluster built in place: markers, aggregates, children, expansion zooms', async () => {
    svc = await testService({ seed: false });
    const rows = [...generateRows(6000, 5)];
    expect((await svc.importText(`${COLUMNS.join(',')}\n${rows.map(csvLine).join('')}`)).rejected_rows).toBe(0);
    const snap = svc.holder.current.base;
    // Some of the points (as a filter picks them), not all.
    const picked = search(svc.holder.current, { tags: [['zhi', 'ti']], limit: snap.size }).refs.map((r) => r.i);
    expect(picked.length).toBeGreaterThan(1000);
    expect(picked.length).toBeLessThan(snap.size);
    const points = shared(Uint32Array, picked.length);
    points.set(picked);
    const input: HierarchyInput = { lng: snap.lng, lat: snap.lat, primaryDomain: snap.primaryDomain, points };
    const inPlace = clusterIndex((p) => snap.lng[p.i], (p) => snap.lat[p.i], (p) => snap.primaryDomain[p.i], picked.map((i) => ({ p: 0, i })));
    const parts = buildHierarchy(input);
    const expected = superclusterAnswers(inPlace, createRandom(3));
    expect(expected.flat().length).toBeGreaterThan(500);
    expect(markersAnswers(Markers.of(parts), createRandom(3))).toEqual(expected);
    expect(markersAnswers(Markers.ofIndex(inPlace), createRandom(3))).toEqual(expected);
    // Everything handed over is shared memory: nothing that grows with the points is copied between threads.
    const arrays = [parts.aggregates, parts.points, ...parts.trees.flatMap((t) => (typeof t === 'number' ? [] : [t.data]))];
    for (const a of arrays) expect(a.buffer).toBeInstanceOf(SharedArrayBuffer);
    for (const t of parts.trees) if (typeof t !== 'number') expect(t.kd).toBeInstanceOf(SharedArrayBuffer);
    // Each zoom's slab holds its tree's items and no more (supercluster allocates it for the zoom below's).
    let bytes = parts.aggregates.byteLength + parts.points.byteLength;
    for (const t of parts.trees) {
      if (typeof t === 'number') continue;
      expect(t.data.length).toBe(KDBush.from(t.kd).numItems * (t.leaf ? 3 : 7)); // the points' zoom: x, y, parent
      bytes += t.data.byteLength + t.kd.byteLength;
    }
    expect(hierarchyBytes(parts)).toBe(bytes);
    expect(Markers.of(parts).bytes).toBe(bytes);
    expect(new Set(parts.trees.filter((t) => typeof t !== 'number').map((t) => t.data.length)).size).toBeGreaterThan(5);
    expect(parts.trees.filter((t) => typeof t !== 'number' && t.leaf)).toHaveLength(1);

    // Built in the worker thread: the same hierarchy.
    const worker = new PartsBuilder(svc.db, 'worker');
    try {
      const fromWorker = await worker.hierarchy(input);
      expect(markersAnswers(Markers.of(fromWorker), createRandom(4))).toEqual(superclusterAnswers(inPlace, createRandom(4)));
    } finally {
      await worker.close();
    }
  });

  test('the service builds a large snapshot\'s hierarchy in the worker, once, however many requests wait for it', async () => {
    svc = await testService({ seed: false, config: { snapshotBuild: 'worker' } });
    const rows = [...generateRows(3000, 9)];
    expect((await svc.importText(`${COLUMNS.join(',')}\n${rows.map(csvLine).join('')}`)).rejected_rows).toBe(0);
    const view = svc.holder.current;
    const asked: number[] = [];
    const ctx = view.base.ctx;
    const build = ctx.hierarchies!;
    ctx.hierarchies = (input) => {
      asked.push(input.points.length);
      return build(input);
    };
    const bbox: [number, number, number, number] = [115.4, 39.4, 117.6, 41.1];
    const answers = await Promise.all([8, 10, 12, 8].map((zoom) => clusters(view, { limit: 10 }, bbox, zoom)));
    expect(asked).toEqual([view.size]); // one build for the four
    for (const a of answers) expect(a.total).toBe(view.size);
    // A filter is another hierarchy.
    const filtered = await clusters(view, { tags: [['lao']], limit: 10 }, bbox, 10);
    expect(asked).toHaveLength(2);
    expect(filtered.total).toBe(search(view, { tags: [['lao']], bbox, limit: view.size }).refs.length);
  });

  test('a folded base is swapped in with the hierarchies the map used on the old one: the next map request waits for no build', async () => {
    svc = await testService({ seed: false, config: { snapshotBuild: 'worker' } });
    const rows = [...generateRows(3000, 11)];
    expect((await svc.importText(`${COLUMNS.join(',')}\n${rows.map(csvLine).join('')}`)).rejected_rows).toBe(0);
    await svc.holder.settled();
    const before = svc.holder.current;
    const asked: number[] = [];
    let built = 0;
    const ctx = before.base.ctx;
    const build = ctx.hierarchies!;
    ctx.hierarchies = (input) => {
      asked.push(input.points.length);
      return build(input).finally(() => built++);
    };
    const builtAtSwap: number[] = [];
    svc.holder.onSwap((v) => {
      if (v.base !== before.base) builtAtSwap.push(built);
    });
    const bbox: [number, number, number, number] = [115.4, 39.4, 117.6, 41.1];
    const lao = { tags: [['lao']], limit: 10 };
    await clusters(before, { limit: 10 }, bbox, 10);
    await clusters(before, lao, bbox, 10);
    expect(asked).toHaveLength(2);

    // A write: an overlay at once, then folded into a new base in the background.
    const moved = { ...rows[0], lng: '116.5', lat: '40.1', district: '' };
    expect(await svc.importText(`${COLUMNS.join(',')}\n${csvLine(moved)}`)).toMatchObject({ updated: 1, rejected_rows: 0 });
    expect(svc.holder.current.overlay).not.toBeNull();
    await svc.holder.settled();
    const after = svc.holder.current;
    expect(after.base).not.toBe(before.base);
    expect(after.overlay).toBeNull();
    expect(hierarchiesOf(after.base)).toBe(2);
    expect(asked).toHaveLength(4);
    expect(builtAtSwap).toEqual([4]); // both finished before the new base was swapped in
    const all = await clusters(after, { limit: 10 }, bbox, 10);
    const filtered = await clusters(after, lao, bbox, 10);
    expect(asked).toHaveLength(4); // the requests built nothing
    expect(all.total).toBe(after.size);
    expect(filtered.total).toBe(search(after, { ...lao, bbox, limit: after.size }).refs.length);
    const at = search(after, { bbox: [116.49, 40.09, 116.51, 40.11], limit: 100 }).refs.map((r) => r.snap.idOf(r.i));
    expect(at).toContain(moved.id);
  });

  test('a failed build is not kept: the next request builds again', async () => {
    svc = await testService({ seed: true });
    const view = svc.holder.current;
    const ctx = view.base.ctx;
    const build = ctx.hierarchies!;
    let fail = true;
    ctx.hierarchies = (input) => (fail ? Promise.reject(new Error('snapshot build worker exited (1)')) : build(input));
    const bbox: [number, number, number, number] = [115.4, 39.4, 117.6, 41.1];
    await expect(clusters(view, { limit: 10 }, bbox, 9)).rejects.toThrow(/worker exited/);
    fail = false;
    expect((await clusters(view, { limit: 10 }, bbox, 9)).total).toBe(view.size);
  });
});
