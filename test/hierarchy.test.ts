import { COLUMNS, createRandom, csvLine, generateRows } from '../scripts/gen.js';
import { buildHierarchy, clusterIndex, hydrate, type ClusterIndex, type HierarchyInput } from '../src/engine/hierarchy.js';
import { PartsBuilder } from '../src/engine/builder.js';
import { clusters } from '../src/engine/clusters.js';
import { search } from '../src/engine/search.js';
import { shared } from '../src/engine/shared.js';
import { testService, type TestService } from './support.js';

let svc: TestService;
afterEach(() => svc?.close());

/** Every answer a cluster query can give, for random views at every zoom: markers, children, expansion zooms, leaves. */
function answers(index: ClusterIndex, rand: () => number): unknown[] {
  const out: unknown[] = [];
  for (let k = 0; k < 60; k++) {
    const zoom = Math.floor(rand() * 19);
    const w = 116 + rand() * 0.6;
    const s = 39.7 + rand() * 0.4;
    const markers = index.getClusters([w, s, w + 0.02 + rand() * 0.8, s + 0.02 + rand() * 0.5], zoom);
    out.push(markers);
    for (const m of markers.slice(0, 5)) {
      if (!('cluster' in m.properties)) continue;
      const id = m.properties.cluster_id;
      out.push(index.getChildren(id), index.getClusterExpansionZoom(id), index.getLeaves(id, 7, 2));
    }
  }
  return out;
}

describe('cluster hierarchies built off the main thread', () => {
  test('a hierarchy handed over as shared arrays answers exactly as supercluster built in place: markers, children, expansion zooms, leaves', async () => {
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
    expect(answers(hydrate(parts), createRandom(3))).toEqual(answers(inPlace, createRandom(3)));
    // Everything handed over is shared memory: nothing that grows with the points is copied between threads.
    const arrays = [parts.coords, parts.aggregates, parts.points, ...parts.trees.flatMap((t) => (typeof t === 'number' ? [] : [t.data]))];
    for (const a of arrays) expect(a.buffer).toBeInstanceOf(SharedArrayBuffer);
    for (const t of parts.trees) if (typeof t !== 'number') expect(t.kd).toBeInstanceOf(SharedArrayBuffer);

    // Built in the worker thread: the same hierarchy.
    const worker = new PartsBuilder(svc.db, 'worker');
    try {
      const fromWorker = await worker.hierarchy(input);
      expect(answers(hydrate(fromWorker), createRandom(4))).toEqual(answers(inPlace, createRandom(4)));
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
